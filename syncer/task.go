package syncer

// task is work running beside the run's own (a side read before the state
// is loaded, the side's items stored while they are merged, free/busy
// while the revision is written, the state while the mailbox is written).
type task[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// goTask runs f in a goroutine.
func goTask[T any](f func() (T, error)) *task[T] {
	t := &task[T]{done: make(chan struct{})}
	go func() {
		defer close(t.done)
		t.val, t.err = f()
	}()
	return t
}

// wait waits for t and returns what f returned; a nil task returns the
// zero value and nil.
func (t *task[T]) wait() (T, error) {
	if t == nil {
		var zero T
		return zero, nil
	}
	<-t.done
	return t.val, t.err
}
