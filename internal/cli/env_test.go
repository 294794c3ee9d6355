package cli_test

import (
	"os"
	"testing"
)

// unsetenv removes a variable for the test (t.Setenv first registers the
// restore of the old value).
func unsetenv(t *testing.T, key string) {
	t.Helper()
	if err := os.Unsetenv(key); err != nil {
		t.Fatal(err)
	}
}
