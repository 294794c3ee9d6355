package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-logr/logr/testr"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/fake"
)

// Stale means: some watch broken, and not listed or watched successfully
// since, for longer than staleAfter. A successful GET of the collection
// ends the outage of that resource only.
func TestInventoryStaleness(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	ns := resourcePath(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"})
	pa := resourcePath(schema.GroupVersionResource{Group: "security.istio.io", Version: "v1", Resource: "peerauthentications"})
	c := &clusterInventory{staleAfter: 30 * time.Second, broken: map[string]time.Time{}, now: func() time.Time { return now }, log: testr.New(t),
		tracked: map[string]bool{ns: true, pa: true}}
	assert.Equal(t, "/api/v1/namespaces", ns)
	assert.Equal(t, "/apis/security.istio.io/v1/peerauthentications", pa)

	stale, since := c.Stale()
	assert.False(t, stale)
	assert.Zero(t, since)

	c.watchBroke(ns, errors.New("connection refused"))
	now = now.Add(10 * time.Second)
	c.watchBroke(ns, errors.New("connection refused")) // retries do not restart the outage
	c.watchBroke(pa, errors.New("connection refused"))
	stale, since = c.Stale()
	assert.False(t, stale, "10s < 30s")
	assert.Equal(t, 10*time.Second, since)

	now = now.Add(25 * time.Second)
	stale, since = c.Stale()
	assert.True(t, stale)
	assert.Equal(t, 35*time.Second, since)

	// Through the real transport wrapper: a 503 on a tracked collection
	// keeps its outage, a Namespace GET (not a collection) is not tracked,
	// a successful WATCH ends the namespaces' outage only.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("fail") != "" {
			http.Error(w, "no", http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("{}"))
	}))
	client := &http.Client{Transport: contactTracker{rt: http.DefaultTransport, inv: c}}
	get := func(url string) error {
		resp, err := client.Get(url)
		if err == nil {
			_, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		return err
	}
	require.NoError(t, get(srv.URL+pa+"?fail=1"))
	require.NoError(t, get(srv.URL+ns+"/shop"))
	require.NoError(t, get(srv.URL+ns+"?watch=true"))
	stale, since = c.Stale()
	assert.False(t, stale)
	assert.Equal(t, 25*time.Second, since, "the PeerAuthentication watch is still broken")
	require.NoError(t, get(srv.URL+pa))
	_, since = c.Stale()
	assert.Zero(t, since, "every watch is back")

	// The API server gone: a refused connection starts an outage (the
	// reflector retries those without calling its error handler).
	srv.Close()
	require.Error(t, get(srv.URL+ns+"?watch=true"))
	now = now.Add(31 * time.Second)
	stale, since = c.Stale()
	assert.True(t, stale)
	assert.Equal(t, 31*time.Second, since)
	require.Error(t, get(srv.URL+ns+"/shop"))
	c.wmu.Lock()
	assert.Len(t, c.broken, 1, "only the tracked collections count")
	c.wmu.Unlock()
}

// Reload Events land on the webhook's Pod (with its uid, read when
// $POD_UID is not given) and are cut to the API server's limit.
func TestReloadEventsOnThePod(t *testing.T) {
	client := fake.NewClientset(&corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "meshguard-0", Namespace: "meshguard-system", UID: "pod-uid"}})
	s := newPodEventSink(t.Context(), client, "meshguard-system", "meshguard-0", "", testr.New(t))
	s.emit(context.Background(), eventWarning, "PolicyReloadFailed", "still serving policy bundle x: "+strings.Repeat("e", 2000))
	list, err := client.CoreV1().Events("meshguard-system").List(t.Context(), metav1.ListOptions{})
	require.NoError(t, err)
	require.Len(t, list.Items, 1)
	ev := list.Items[0]
	assert.Equal(t, corev1.ObjectReference{APIVersion: "v1", Kind: "Pod", Namespace: "meshguard-system", Name: "meshguard-0", UID: "pod-uid"}, ev.InvolvedObject)
	assert.Equal(t, corev1.EventTypeWarning, ev.Type)
	assert.Equal(t, "PolicyReloadFailed", ev.Reason)
	assert.Len(t, ev.Message, maxEventMessage)
	assert.True(t, strings.HasPrefix(ev.Message, "still serving policy bundle x: "))

	t.Setenv("POD_NAME", "")
	assert.Nil(t, newEventSink(t.Context(), nil, testr.New(t)), "no POD_NAME: no Events, no panic")
}
