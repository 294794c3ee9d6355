package policy_test

import (
	"testing"
	"time"

	"github.com/meshguard/meshguard/pkg/policy"
)

// FuzzParseExemption: any annotations give either no exemption or a valid
// one (reason and an unexpired YYYY-MM-DD date), never both an exemption and
// a reason why it does not apply, and never a panic.
func FuzzParseExemption(f *testing.F) {
	f.Add("ISTIO-MTLS-001", "migration", "2026-12-31")
	f.Add("*", "", "2026-12-31")
	f.Add("ISTIO-MTLS-001,,ISTIO-AUTHZ-001", "x", "31/12/2026")
	f.Add(" ISTIO-MTLS-001 ", "r", "2026-11-22")
	f.Add("", "r", "9999-99-99")
	today := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, ids, reason, until string) {
		ann := map[string]string{policy.AnnotationExempt: ids, policy.AnnotationExemptReason: reason, policy.AnnotationExemptUntil: until}
		ex, why := policy.ParseExemption(ann, "object", "ISTIO-MTLS-001", today)
		if ex != nil && why != "" {
			t.Fatalf("both an exemption and a reason it does not apply: %q", why)
		}
		if ex == nil {
			return
		}
		if ex.Reason == "" {
			t.Fatal("an exemption without a reason")
		}
		d, err := time.Parse(time.DateOnly, ex.Until)
		if err != nil {
			t.Fatalf("an exemption with a bad date %q", ex.Until)
		}
		if d.Before(time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)) {
			t.Fatalf("an expired exemption applied: %s", ex.Until)
		}
	})
}
