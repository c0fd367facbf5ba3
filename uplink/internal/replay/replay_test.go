package replay

import (
	"errors"
	"fmt"
	"testing"
	"time"
)

func TestWindow(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	type step struct {
		key     string
		at      time.Duration
		fresh   bool
		wantErr error
	}
	tests := []struct {
		name  string
		max   int
		steps []step
	}{
		{"repeat refused inside the window", 8, []step{{"a", 0, true, nil}, {"a", 59 * time.Second, false, nil}}},
		{"forgotten after the window", 8, []step{{"a", 0, true, nil}, {"a", time.Minute, true, nil}}},
		{"full window refuses, never forgets early", 2, []step{
			{"a", 0, true, nil}, {"b", time.Second, true, nil}, {"c", 2 * time.Second, false, ErrFull},
			{"a", 3 * time.Second, false, nil}, {"c", time.Minute, true, nil}, {"b", time.Minute, false, nil}}},
		{"clock stepping back keeps entries", 8, []step{
			{"a", time.Hour, true, nil}, {"a", 0, false, nil}, {"a", time.Hour + 59*time.Second, false, nil}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := New[int](time.Minute, tt.max)
			for i, s := range tt.steps {
				_, fresh, err := w.Add(s.key, i, t0.Add(s.at))
				if fresh != s.fresh || !errors.Is(err, s.wantErr) {
					t.Fatalf("step %d Add(%q, +%v) = %v, %v; want %v, %v", i, s.key, s.at, fresh, err, s.fresh, s.wantErr)
				}
			}
		})
	}
}

func TestWindowValue(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	w := New[string](time.Minute, 8)
	w.Add("r1", "", t0)
	w.Set("r1", "answer")
	w.Set("r2", "never added")
	if v, fresh, _ := w.Add("r1", "", t0); fresh || v != "answer" {
		t.Errorf("Add(r1) = %q, %v; want the recorded answer", v, fresh)
	}
	if w.Len() != 1 {
		t.Errorf("Len = %d, want 1 (Set must not add)", w.Len())
	}
}

// TestWindowForgetsInOrder fills the window over ten minutes and checks
// that it holds exactly the last minute's identifiers.
func TestWindowForgetsInOrder(t *testing.T) {
	t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	w := New[struct{}](time.Minute, 1<<20)
	for i := range 600 {
		if _, fresh, err := w.Add(fmt.Sprint(i), struct{}{}, t0.Add(time.Duration(i)*time.Second)); !fresh || err != nil {
			t.Fatalf("id %d: %v %v", i, fresh, err)
		}
	}
	if w.Len() != 60 {
		t.Errorf("holds %d ids, want the last 60", w.Len())
	}
	if len(w.q)-w.head != 60 {
		t.Errorf("queue holds %d live entries, want 60", len(w.q)-w.head)
	}
}

// BenchmarkAdd shows that Add costs the same with a thousand or a million
// identifiers held.
func BenchmarkAdd(b *testing.B) {
	for _, held := range []int{1000, 1000000} {
		b.Run(fmt.Sprint("held=", held), func(b *testing.B) {
			t0 := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
			w := New[struct{}](time.Hour, 2*held+b.N)
			keys := make([]string, held+b.N)
			for i := range keys {
				keys[i] = fmt.Sprintf("kiosk-%d/req-%d", i%1000, i)
			}
			for i := range held {
				w.Add(keys[i], struct{}{}, t0)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				w.Add(keys[held+i], struct{}{}, t0.Add(time.Duration(i)*time.Microsecond))
			}
		})
	}
}
