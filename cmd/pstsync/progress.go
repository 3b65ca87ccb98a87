package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progressBar draws one status line on a terminal: items done of total,
// over all files, redrawn at most ten times a second.
type progressBar struct {
	w     io.Writer
	mu    sync.Mutex
	total int
	done  int
	files int
	last  time.Time
}

func newProgressBar(w io.Writer) *progressBar { return &progressBar{w: w} }

func (p *progressBar) Start(file string, items int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total += items
	p.files++
	p.draw(true)
}

func (p *progressBar) Add(file string, items int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total += items
}

func (p *progressBar) Item(string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	p.draw(false)
}

func (p *progressBar) Done(string) {}

func (p *progressBar) draw(force bool) {
	if !force && time.Since(p.last) < 100*time.Millisecond && p.done != p.total {
		return
	}
	p.last = time.Now()
	const width = 30
	filled := 0
	if p.total > 0 {
		filled = p.done * width / p.total
	}
	bar := make([]byte, width)
	for i := range bar {
		if i < filled {
			bar[i] = '#'
		} else {
			bar[i] = '.'
		}
	}
	fmt.Fprintf(p.w, "\r[%s] %d/%d items, %d file(s)", bar, p.done, p.total, p.files)
}

// Finish ends the status line.
func (p *progressBar) Finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.files > 0 {
		p.draw(true)
		fmt.Fprintln(p.w)
	}
}
