package bufpool

import "testing"

func TestGetPut(t *testing.T) {
	for _, n := range []int{0, 1, 511, 512, 513, 4096, 5000, 1 << 20, MaxSize, MaxSize + 1} {
		b := Get(n)
		if len(b) != n {
			t.Fatalf("Get(%d): len %d", n, len(b))
		}
		if n <= MaxSize && n > 0 && cap(b) < n {
			t.Fatalf("Get(%d): cap %d", n, cap(b))
		}
		Put(b)
	}
}

// A buffer of any capacity goes back under a class it can serve whole:
// whatever Get returns has room for the length asked.
func TestPutOddCapacity(t *testing.T) {
	for _, c := range []int{600, 1000, 1025, 70000, 3 << 20} {
		Put(make([]byte, 10, c))
		for _, n := range []int{c / 2, c, c * 2} {
			if b := Get(n); len(b) != n || cap(b) < n {
				t.Fatalf("cap %d, Get(%d): len %d cap %d", c, n, len(b), cap(b))
			}
		}
	}
}

func TestClass(t *testing.T) {
	for _, tc := range []struct{ n, want int }{{0, 0}, {512, 0}, {513, 1}, {1024, 1}, {1025, 2}, {MaxSize, maxShift - minShift}} {
		if got := class(tc.n); got != tc.want {
			t.Errorf("class(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}
