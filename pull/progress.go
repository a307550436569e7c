package pull

import "io"

// EventKind says what happened in a pull.
type EventKind int

// The events of a pull, in the order they occur for one layer.
const (
	LayerCached   EventKind = iota // already in the store, not fetched
	LayerStart                     // fetch started
	LayerProgress                  // Current of Total bytes read
	LayerDone                      // fetched, verified and unpacked
	ImageCached                    // the whole image was already stored
	ImageDone                      // the image is stored
)

// Event reports pull progress; Progress callbacks may be called from
// several goroutines at once.
type Event struct {
	Image          string
	Kind           EventKind
	Layer          string // short digest
	Index, Count   int
	Current, Total int64
}

func (o Options) emitter(image string) func(Event) {
	return func(e Event) {
		if o.Progress != nil {
			e.Image = image
			o.Progress(e)
		}
	}
}

// progressStep is how many bytes pass between progress events.
const progressStep = 256 << 10

type progressReader struct {
	r    io.Reader
	emit func(Event)
	ev   Event
	last int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.ev.Current += int64(n)
	if p.ev.Current-p.last >= progressStep {
		p.last = p.ev.Current
		p.emit(p.ev)
	}
	return n, err
}
