package mutate_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func deepJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return string(b)
}
