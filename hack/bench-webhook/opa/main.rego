# The decision OPA serves in the webhook benchmark, the way OPA's own
# admission-control setup does it: POST / evaluates data.system.main with the
# AdmissionReview as input and answers with an AdmissionReview. Every package
# of the bundle sees every review (OPA has no per-kind index); the rules read
# their METADATA kinds to decide whether they apply.
package system

main := {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "response": _response}

default _uid := ""

_uid := input.request.uid

_denies contains f.msg if {
	some f in data.meshguard.istio[_].deny
}

_warns contains f.msg if {
	some f in data.meshguard.istio[_].warn
}

_response := {
	"uid": _uid,
	"allowed": false,
	"status": {"code": 403, "message": concat("\n", _denies)},
	"warnings": [w | some w in _warns],
} if count(_denies) > 0

_response := {"uid": _uid, "allowed": true, "warnings": [w | some w in _warns]} if count(_denies) == 0
