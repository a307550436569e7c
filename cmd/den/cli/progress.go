package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/charmbracelet/lipgloss"
	units "github.com/docker/go-units"
	"golang.org/x/term"

	"github.com/denproject/den/pull"
)

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

// progress renders pull events: bars redrawn in place on a terminal, one
// plain line per event otherwise (CI logs).
type progress struct {
	w       io.Writer
	tty     bool
	mu      sync.Mutex
	layers  map[string]*layerState
	order   []string
	drawn   int
	stop    chan struct{}
	stopped chan struct{}
}

type layerState struct {
	label          string
	current, total int64
	state          string
}

func newProgress(w *os.File) *progress {
	p := &progress{w: w, tty: isTerminal(w), layers: map[string]*layerState{}}
	if p.tty {
		p.stop, p.stopped = make(chan struct{}), make(chan struct{})
		go p.loop()
	}
	return p
}

func (p *progress) event(e pull.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.tty {
		p.plain(e)
		return
	}
	key := e.Image + " " + e.Layer
	l := p.layers[key]
	if l == nil && e.Layer != "" {
		l = &layerState{label: e.Layer}
		p.layers[key] = l
		p.order = append(p.order, key)
	}
	switch e.Kind {
	case pull.LayerCached:
		l.state, l.current, l.total = "exists", e.Total, e.Total
	case pull.LayerStart, pull.LayerProgress:
		l.state, l.current, l.total = "pulling", e.Current, e.Total
	case pull.LayerDone:
		l.state, l.current = "done", l.total
	}
}

func (p *progress) plain(e pull.Event) {
	layer := fmt.Sprintf("layer %d/%d %s", e.Index+1, e.Count, e.Layer)
	switch e.Kind {
	case pull.LayerCached:
		fmt.Fprintf(p.w, "%s: %s: already stored\n", e.Image, layer)
	case pull.LayerStart:
		fmt.Fprintf(p.w, "%s: %s: fetching %s\n", e.Image, layer, size(e.Total))
	case pull.LayerDone:
		fmt.Fprintf(p.w, "%s: %s: verified and unpacked\n", e.Image, layer)
	case pull.ImageCached:
		fmt.Fprintf(p.w, "%s: image is up to date\n", e.Image)
	}
}

var (
	barDone  = lipgloss.NewStyle().Foreground(lipgloss.Color("10"))
	barTodo  = lipgloss.NewStyle().Foreground(lipgloss.Color("8"))
	dimLabel = lipgloss.NewStyle().Foreground(lipgloss.Color("12"))
)

func (p *progress) loop() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	defer close(p.stopped)
	for {
		select {
		case <-t.C:
			p.draw()
		case <-p.stop:
			p.draw()
			return
		}
	}
}

func (p *progress) draw() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.order) == 0 {
		return // nothing pulled: a run of a stored image draws nothing
	}
	var b strings.Builder
	if p.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA", p.drawn)
	}
	keys := append([]string{}, p.order...)
	sort.Strings(keys)
	var cur, tot int64
	for _, k := range keys {
		l := p.layers[k]
		cur += l.current
		tot += l.total
		fmt.Fprintf(&b, "\x1b[2K%s %s %s\n", dimLabel.Render(l.label), bar(l.current, l.total, 30), l.state)
	}
	fmt.Fprintf(&b, "\x1b[2K%-12s %s %s / %s\n", "total", bar(cur, tot, 30), size(cur), size(tot))
	p.drawn = len(keys) + 1
	io.WriteString(p.w, b.String())
}

func (p *progress) close() {
	if p.tty {
		close(p.stop)
		<-p.stopped
	}
}

func bar(cur, total int64, width int) string {
	n := 0
	if total > 0 {
		n = int(int64(width) * min(cur, total) / total)
	}
	return barDone.Render(strings.Repeat("█", n)) + barTodo.Render(strings.Repeat("░", width-n))
}

// size is docker's: 1000-based, three significant digits ("7.8MB").
func size(n int64) string { return units.HumanSizeWithPrecision(float64(n), 3) }
