// Package admission is the webhook's domain layer: it turns an
// AdmissionReview request into a verdict of the policy engine (validation) or
// into a patch of the defaults the rules say an object lacks (mutation).
// Transport (TLS, HTTP, body limits, panics) is controller-runtime's
// admission.Webhook; this package only implements its Handler.
package admission

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/go-logr/logr"
	"github.com/open-policy-agent/opa/v1/ast"
	admissionv1 "k8s.io/api/admission/v1"
	"sigs.k8s.io/controller-runtime/pkg/webhook/admission"

	"github.com/meshguard/meshguard/pkg/mutate"
	"github.com/meshguard/meshguard/pkg/policy"
)

// Webhook names, used in metrics and the decision log.
const (
	WebhookValidate = "validate"
	WebhookMutate   = "mutate"
)

// Verdicts, used in metrics and the decision log.
const (
	VerdictAllowed = "allowed"
	VerdictWarned  = "warned"
	VerdictDenied  = "denied"
	VerdictMutated = "mutated"
	VerdictSkipped = "skipped" // a kind or operation no rule judges
	VerdictInvalid = "invalid" // a request that is not a usable AdmissionReview (400)
	VerdictError   = "error"   // evaluation failed (500); failurePolicy decides
)

// Namespaces makes sure the Namespace of a request is in the engine's
// inventory before rules read it (the informer cache may not have seen a
// Namespace created a moment ago). nil means nothing to do.
type Namespaces interface {
	Ensure(ctx context.Context, namespace string)
}

// Options configure the handlers. Engine is required.
type Options struct {
	// Engine returns the engine to judge with; it is called once per request
	// so that a reloaded bundle takes effect without a restart.
	Engine func() *policy.Engine
	// Namespaces keeps the request's Namespace in the inventory (optional).
	Namespaces Namespaces
	// InventoryStale says whether the inventory that cross-object rules read
	// is stale (its watch of the API server broken for too long) and since
	// when (optional: nil is never stale). A stale inventory still judges,
	// from the last state it saw; the verdict then carries a warning and the
	// decision log inventoryStale.
	InventoryStale func() (stale bool, since time.Duration)
	// Metrics records requests and findings (optional).
	Metrics *Metrics
	// Logger receives one decision line per request (never the object).
	Logger logr.Logger
	// EvalTimeout bounds the judgement of one request (default 9s, one
	// second below the webhook configurations' 10s timeout): a slow
	// evaluation ends with a 500 that says so instead of hanging until the
	// API server gives up.
	EvalTimeout time.Duration
}

func (o *Options) defaults() error {
	if o.Engine == nil {
		return errors.New("admission: Options.Engine is required")
	}
	if o.Logger.GetSink() == nil {
		o.Logger = logr.Discard()
	}
	if o.EvalTimeout <= 0 {
		o.EvalTimeout = 9 * time.Second
	}
	return nil
}

// Validator is the validating webhook's handler.
type Validator struct{ opts Options }

// Mutator is the mutating webhook's handler.
type Mutator struct{ opts Options }

var (
	_ admission.Handler = (*Validator)(nil)
	_ admission.Handler = (*Mutator)(nil)
)

// NewValidator returns the validating handler.
func NewValidator(opts Options) (*Validator, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	return &Validator{opts: opts}, nil
}

// NewMutator returns the mutating handler.
func NewMutator(opts Options) (*Mutator, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	return &Mutator{opts: opts}, nil
}

// decision is what one request came to, for the log and the metrics.
type decision struct {
	webhook  string
	verdict  string
	rules    []string
	findings []policy.Finding
	mutated  []string
	err      error
	revision string
	stale    bool // judged from a stale inventory
}

// request is a checked, decoded admission request.
type request struct {
	op    string
	gk    policy.GroupKind
	raw   []byte         // the object judged: object, or oldObject on DELETE
	obj   map[string]any // raw, decoded (mutation)
	ref   policy.ObjectRef
	added bool // metadata.namespace was filled in from the request
	// The object, and the old object on UPDATE, as the OPA values the
	// rules read (validation).
	value, oldValue ast.Value
}

// check rejects what is not a usable AdmissionReview. controller-runtime
// hands a body that is not an AdmissionReview, or an empty one, to the
// handler as an empty request: without this, it would be allowed.
func check(req admission.Request) (*request, error) {
	if req.UID == "" {
		return nil, errors.New("the request has no uid: is the body an AdmissionReview (admission.k8s.io/v1)?")
	}
	if req.Kind.Kind == "" {
		return nil, errors.New("the request has no kind")
	}
	r := &request{op: string(req.Operation), gk: policy.GroupKind{Group: req.Kind.Group, Kind: req.Kind.Kind}}
	switch req.Operation {
	case admissionv1.Create, admissionv1.Update:
		r.raw = req.Object.Raw
		if len(r.raw) == 0 {
			return nil, fmt.Errorf("%s request for %s has no object", req.Operation, r.gk)
		}
	case admissionv1.Delete:
		r.raw = req.OldObject.Raw
	case admissionv1.Connect:
	case "":
		return nil, errors.New("the request has no operation")
	default:
		return nil, fmt.Errorf("unknown operation %q", req.Operation)
	}
	return r, nil
}

// decode reads the object under judgement into a map, for the mutator to
// change; the request's namespace fills in a missing metadata.namespace.
func (r *request) decode(req admission.Request) error {
	dec := json.NewDecoder(bytes.NewReader(r.raw))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		return fmt.Errorf("the %s object does not decode: %w", r.gk, err)
	}
	if obj == nil {
		return fmt.Errorf("the %s object is not a JSON object", r.gk)
	}
	if req.Namespace != "" {
		md, _ := obj["metadata"].(map[string]any)
		if md == nil {
			md = map[string]any{}
			obj["metadata"] = md
		}
		if ns, _ := md["namespace"].(string); ns == "" {
			md["namespace"] = req.Namespace
			r.added = true
		}
	}
	r.obj = obj
	r.ref = policy.RefOf(obj)
	if r.ref.Name == "" {
		r.ref.Name = req.Name
	}
	return nil
}

// decodeValue reads the object under judgement (and the old object of an
// UPDATE) straight into the OPA values the rules read, with no map in
// between; the request's namespace fills in a missing metadata.namespace.
// It gives the values decode and ast.InterfaceToValue would.
func (r *request) decodeValue(req admission.Request) error {
	v, err := policy.ValueFromJSON(r.raw)
	if err != nil {
		return fmt.Errorf("the %s object does not decode: %w", r.gk, err)
	}
	obj, ok := v.(ast.Object)
	if !ok {
		return fmt.Errorf("the %s object is not a JSON object", r.gk)
	}
	if req.Namespace != "" {
		md, _ := termValue(obj.Get(keyMetadata)).(ast.Object)
		if md == nil {
			md = ast.NewObject()
			obj.Insert(keyMetadata, ast.NewTerm(md))
		}
		if ns, _ := termValue(md.Get(keyNamespace)).(ast.String); ns == "" {
			md.Insert(keyNamespace, ast.StringTerm(req.Namespace))
			r.added = true
		}
	}
	if r.op == policy.OpUpdate && len(req.OldObject.Raw) > 0 {
		// Rules that protect objects compare with the object as it was.
		old, err := policy.ValueFromJSON(req.OldObject.Raw)
		if err != nil {
			return fmt.Errorf("the old %s object does not decode: %w", r.gk, err)
		}
		switch old.(type) {
		case ast.Object:
			r.oldValue = old
		case ast.Null: // as good as none
		default:
			return fmt.Errorf("the old %s object is not a JSON object", r.gk)
		}
	}
	r.value = obj
	r.ref = policy.RefOfValue(obj)
	if r.ref.Name == "" {
		r.ref.Name = req.Name
	}
	return nil
}

func termValue(t *ast.Term) ast.Value {
	if t == nil {
		return nil
	}
	return t.Value
}

// The keys and constants of the review input, made once: strings are
// immutable, so every input shares them.
var (
	keyAPIVersion, keyKind, keyRequest = ast.StringTerm("apiVersion"), ast.StringTerm("kind"), ast.StringTerm("request")
	keyUID, keyOperation, keyNamespace = ast.StringTerm("uid"), ast.StringTerm("operation"), ast.StringTerm("namespace")
	keyName, keyUserInfo, keyDryRun    = ast.StringTerm("name"), ast.StringTerm("userInfo"), ast.StringTerm("dryRun")
	keyGroup, keyVersion, keyUsername  = ast.StringTerm("group"), ast.StringTerm("version"), ast.StringTerm("username")
	keyGroups, keyObject, keyOldObject = ast.StringTerm("groups"), ast.StringTerm("object"), ast.StringTerm("oldObject")
	keyMetadata                        = ast.StringTerm("metadata")
	reviewAPIVersion, reviewKind       = ast.StringTerm("admission.k8s.io/v1"), ast.StringTerm("AdmissionReview")
	operationTerms                     = map[string]*ast.Term{
		policy.OpCreate: ast.StringTerm(policy.OpCreate), policy.OpUpdate: ast.StringTerm(policy.OpUpdate),
		policy.OpDelete: ast.StringTerm(policy.OpDelete), string(admissionv1.Connect): ast.StringTerm(string(admissionv1.Connect)),
	}
)

// input is the AdmissionReview the policies see (lib/kube reads the object
// out of it), so rules can use the operation, the user and the old object.
func (r *request) input(req admission.Request) ast.Value {
	str := ast.StringTerm
	groups := make([]*ast.Term, len(req.UserInfo.Groups))
	for i, g := range req.UserInfo.Groups {
		groups[i] = str(g)
	}
	op := operationTerms[r.op]
	if op == nil {
		op = str(r.op)
	}
	fields := make([][2]*ast.Term, 0, 9)
	fields = append(fields,
		[2]*ast.Term{keyUID, str(string(req.UID))},
		[2]*ast.Term{keyKind, ast.ObjectTerm([2]*ast.Term{keyGroup, str(req.Kind.Group)}, [2]*ast.Term{keyVersion, str(req.Kind.Version)}, [2]*ast.Term{keyKind, str(req.Kind.Kind)})},
		[2]*ast.Term{keyOperation, op},
		[2]*ast.Term{keyNamespace, str(req.Namespace)},
		[2]*ast.Term{keyName, str(req.Name)},
		[2]*ast.Term{keyUserInfo, ast.ObjectTerm([2]*ast.Term{keyUsername, str(req.UserInfo.Username)}, [2]*ast.Term{keyGroups, ast.ArrayTerm(groups...)})},
		[2]*ast.Term{keyDryRun, ast.InternedTerm(req.DryRun != nil && *req.DryRun)},
	)
	switch {
	case r.op == policy.OpDelete:
		fields = append(fields, [2]*ast.Term{keyOldObject, ast.NewTerm(r.value)})
	default:
		fields = append(fields, [2]*ast.Term{keyObject, ast.NewTerm(r.value)})
		if r.oldValue != nil {
			fields = append(fields, [2]*ast.Term{keyOldObject, ast.NewTerm(r.oldValue)})
		}
	}
	return ast.NewObject(
		[2]*ast.Term{keyAPIVersion, reviewAPIVersion},
		[2]*ast.Term{keyKind, reviewKind},
		[2]*ast.Term{keyRequest, ast.ObjectTerm(fields...)},
	)
}

// objects decodes the judged objects for redact (only an evaluation
// failure needs them as maps).
func (r *request) objects(req admission.Request) []map[string]any {
	var out []map[string]any
	for _, raw := range [][]byte{r.raw, req.OldObject.Raw} {
		var m map[string]any
		if len(raw) > 0 && json.Unmarshal(raw, &m) == nil && m != nil {
			out = append(out, m)
		}
	}
	return out
}

// Handle judges the object (CREATE, UPDATE) or the old object (DELETE, for
// rules that protect objects).
func (v *Validator) Handle(ctx context.Context, req admission.Request) admission.Response {
	start := time.Now()
	// A request is judged to its end even when the server is stopping (its
	// context is cancelled on SIGTERM): drained, not failed. The deadline
	// bounds it instead.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), v.opts.EvalTimeout)
	defer cancel()
	engine := v.opts.Engine()
	d := decision{webhook: WebhookValidate, revision: engine.Revision()}
	resp := v.handle(ctx, engine, req, &d)
	v.opts.record(req, d, start)
	return resp
}

func (v *Validator) handle(ctx context.Context, engine *policy.Engine, req admission.Request, d *decision) admission.Response {
	r, err := check(req)
	if err != nil {
		return invalid(d, err)
	}
	if r.op == string(admissionv1.Connect) || !engine.CoversOp(r.gk, r.op) || engine.Excluded(req.Namespace) {
		d.verdict = VerdictSkipped
		return admission.Allowed("")
	}
	if r.op == policy.OpDelete && len(r.raw) == 0 {
		return invalid(d, fmt.Errorf("DELETE request for %s has no oldObject", r.gk))
	}
	if err := r.decodeValue(req); err != nil {
		return invalid(d, err)
	}
	if v.opts.Namespaces != nil && req.Namespace != "" {
		v.opts.Namespaces.Ensure(ctx, req.Namespace)
	}
	findings, err := engine.EvaluateInput(ctx, r.ref, r.op, r.input(req))
	if err != nil {
		return failed(d, redact(deadline(ctx, err), r.objects(req)...))
	}
	d.findings = findings
	var denies, warnings []string
	if w := v.opts.staleWarning(d); w != "" {
		warnings = append(warnings, w)
	}
	audit := map[string]string{}
	for _, f := range findings {
		line := f.Rule + ": " + f.Message
		switch f.Action {
		case policy.ActionDeny:
			denies = append(denies, line)
		case policy.ActionWarn:
			warnings = append(warnings, line)
		case policy.ActionAudit, policy.ActionExempted:
			if x := f.Exemption; x != nil {
				f.Message = fmt.Sprintf("exempted by the %s until %s (%s): %s", x.From, x.Until, x.Reason, f.Message)
			}
			if prev := audit[f.Rule]; prev != "" {
				line = prev + "; " + f.Message
			} else {
				line = f.Message
			}
			audit[f.Rule] = line
		}
		d.rules = appendUnique(d.rules, f.Rule)
	}
	var resp admission.Response
	switch {
	case len(denies) > 0:
		d.verdict = VerdictDenied
		msg := fmt.Sprintf("meshguard denied %s (%d finding", r.ref, len(denies))
		if len(denies) > 1 {
			msg += "s"
		}
		resp = admission.Denied(msg + "):\n" + strings.Join(denies, "\n"))
	case len(warnings) > 0:
		d.verdict = VerdictWarned
		resp = admission.Allowed("")
	default:
		d.verdict = VerdictAllowed
		resp = admission.Allowed("")
	}
	if len(warnings) > 0 {
		resp = resp.WithWarnings(warnings...)
	}
	if len(audit) > 0 {
		resp.AuditAnnotations = audit
	}
	return resp
}

// Handle adds the defaults the rules say the object lacks; the patch is
// computed by admission.PatchResponseFromRaw from the mutated copy.
func (m *Mutator) Handle(ctx context.Context, req admission.Request) admission.Response {
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.opts.EvalTimeout)
	defer cancel()
	engine := m.opts.Engine()
	d := decision{webhook: WebhookMutate, revision: engine.Revision()}
	resp := m.handle(ctx, engine, req, &d)
	m.opts.record(req, d, start)
	return resp
}

func (m *Mutator) handle(ctx context.Context, engine *policy.Engine, req admission.Request, d *decision) admission.Response {
	r, err := check(req)
	if err != nil {
		return invalid(d, err)
	}
	if (r.op != policy.OpCreate && r.op != policy.OpUpdate) || !engine.Mutates(r.gk) || engine.Excluded(req.Namespace) {
		d.verdict = VerdictSkipped
		return admission.Allowed("")
	}
	if err := r.decode(req); err != nil {
		return invalid(d, err)
	}
	if m.opts.Namespaces != nil && req.Namespace != "" {
		m.opts.Namespaces.Ensure(ctx, req.Namespace)
	}
	m.opts.staleWarning(d) // the log says so; the validating webhook warns
	out, applied, err := mutate.Object(ctx, engine, r.obj)
	if err != nil {
		return failed(d, redact(deadline(ctx, err), r.objects(req)...))
	}
	if len(applied) == 0 {
		d.verdict = VerdictAllowed
		return admission.Allowed("")
	}
	if r.added { // the namespace was only filled in to judge the object
		if md, ok := out["metadata"].(map[string]any); ok {
			delete(md, "namespace")
		}
	}
	mutated, err := json.Marshal(out)
	if err != nil {
		return failed(d, fmt.Errorf("encoding the mutated object: %w", err))
	}
	d.verdict = VerdictMutated
	d.rules = applied
	d.mutated = applied
	return admission.PatchResponseFromRaw(r.raw, mutated)
}

// StaleWarning begins the warning of a verdict given from a stale inventory.
const StaleWarning = "meshguard: the inventory is stale"

// staleWarning marks d as judged from a stale inventory and returns the
// warning that says so ("" when the inventory is current).
func (o *Options) staleWarning(d *decision) string {
	if o.InventoryStale == nil {
		return ""
	}
	stale, since := o.InventoryStale()
	if !stale {
		return ""
	}
	d.stale = true
	return fmt.Sprintf("%s (its watch of the API server has been broken for %s): rules that read other objects (namespace labels, mesh-wide and namespace policies) judged from the last state it saw", StaleWarning, since.Round(time.Second))
}

func invalid(d *decision, err error) admission.Response {
	d.verdict, d.err = VerdictInvalid, err
	return admission.Errored(http.StatusBadRequest, err)
}

// failed answers an evaluation failure with a 500, never with allowed:
// the webhook configuration's failurePolicy decides.
// deadline says so when an error comes from the request's deadline.
func deadline(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("the evaluation took longer than the deadline: %w", err)
	}
	return err
}

// redact takes the objects' string values out of an evaluation error: Rego
// errors may quote the values a rule read (a conflict error quotes both), and
// the error goes to the log and back to the API server. The object's own
// coordinates (apiVersion, kind, name, namespace) are kept: the log names
// them anyway. Values shorter than four characters are left, so that the
// message stays readable.
func redact(err error, objs ...map[string]any) error {
	if err == nil {
		return nil
	}
	keep := map[string]bool{}
	var values []string
	for _, o := range objs {
		if o == nil {
			continue
		}
		for _, k := range []string{"apiVersion", "kind"} {
			if s, ok := o[k].(string); ok {
				keep[s] = true
			}
		}
		if md, ok := o["metadata"].(map[string]any); ok {
			for _, k := range []string{"name", "namespace"} {
				if s, ok := md[k].(string); ok {
					keep[s] = true
				}
			}
		}
		values = collectStrings(o, values)
	}
	msg := err.Error()
	sort.Slice(values, func(i, j int) bool { return len(values[i]) > len(values[j]) })
	changed := false
	for _, v := range values {
		if len(v) < 4 || keep[v] {
			continue
		}
		forms := []string{v}
		if q, err := json.Marshal(v); err == nil && string(q[1:len(q)-1]) != v {
			forms = append(forms, string(q[1:len(q)-1]))
		}
		for _, f := range forms {
			if strings.Contains(msg, f) {
				msg = strings.ReplaceAll(msg, f, "[redacted]")
				changed = true
			}
		}
	}
	if !changed {
		return err
	}
	return errors.New(msg)
}

func collectStrings(v any, out []string) []string {
	switch x := v.(type) {
	case string:
		return append(out, x)
	case map[string]any:
		for _, e := range x {
			out = collectStrings(e, out)
		}
	case []any:
		for _, e := range x {
			out = collectStrings(e, out)
		}
	}
	return out
}

func failed(d *decision, err error) admission.Response {
	d.verdict, d.err = VerdictError, err
	return admission.Errored(http.StatusInternalServerError, fmt.Errorf("evaluating policy: %w", err))
}

func appendUnique(ss []string, s string) []string {
	for _, x := range ss {
		if x == s {
			return ss
		}
	}
	return append(ss, s)
}

// record writes the decision log line and the metrics.
func (o *Options) record(req admission.Request, d decision, start time.Time) {
	latency := time.Since(start)
	kind := req.Kind.Kind
	if req.Kind.Group != "" {
		kind += "." + req.Kind.Group
	}
	if o.Metrics != nil {
		o.Metrics.observe(d, kind, latency)
	}
	sort.Strings(d.rules)
	kv := []any{
		"webhook", d.webhook,
		"uid", string(req.UID),
		"kind", kind,
		"namespace", req.Namespace,
		"name", req.Name,
		"operation", string(req.Operation),
		"user", req.UserInfo.Username,
		"dryRun", req.DryRun != nil && *req.DryRun,
		"verdict", d.verdict,
		"rules", d.rules,
		"bundleRevision", d.revision,
		"latency", latency.String(),
	}
	if d.stale {
		kv = append(kv, "inventoryStale", true)
	}
	switch d.verdict {
	case VerdictError:
		o.Logger.Error(d.err, "admission decision", kv...)
	case VerdictInvalid:
		o.Logger.Info("admission decision", append(kv, "error", d.err.Error())...)
	default:
		o.Logger.Info("admission decision", kv...)
	}
}
