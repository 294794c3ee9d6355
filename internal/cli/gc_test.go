package cli

import (
	"math"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestCollectLate: no collection until the heap reaches the limit; the
// first one switches to GOGC 400 without a limit.
func TestCollectLate(t *testing.T) {
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	collectLate(int64(before.Sys-before.HeapReleased) + 64<<20) // the limit counts all of the runtime's memory

	var keep [][]byte
	for range 16 { // 16 MiB, live: under the limit
		keep = append(keep, make([]byte, 1<<20))
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	if ms.NumGC != before.NumGC {
		t.Fatalf("%d collections before the limit", ms.NumGC-before.NumGC)
	}
	if got := debug.SetGCPercent(-1); got != -1 {
		t.Fatalf("GOGC %d before the limit, want off", got)
	}
	for range 256 { // 256 MiB of garbage: past the limit
		keep = append(keep[:16], make([]byte, 1<<20))
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		// The finalizer runs on its own goroutine after the collection.
		got := debug.SetGCPercent(-1)
		debug.SetGCPercent(got)
		if got == 400 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GOGC %d after the limit was reached, want 400", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if limit := debug.SetMemoryLimit(-1); limit != math.MaxInt64 {
		t.Fatalf("memory limit %d after the first collection, want none", limit)
	}
	runtime.KeepAlive(keep)
}
