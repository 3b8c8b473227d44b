//go:build unix

package main

import (
	"fmt"
	"image/color"
	"slices"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"

	"github.com/leasehold/leasehold/internal/chaos"
	"github.com/leasehold/leasehold/internal/history"
	"github.com/leasehold/leasehold/internal/worker"
)

// save draws plots in a grid into a PNG.
func save(path string, rows [][]*plot.Plot, w, h vg.Length) error {
	img := vgimg.New(w, h)
	dc := draw.New(img)
	t := draw.Tiles{Rows: len(rows), Cols: len(rows[0]), PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(rows, t, dc)
	for i, row := range rows {
		for j, p := range row {
			if p != nil {
				p.Draw(canvases[i][j])
			}
		}
	}
	png := vgimg.PngCanvas{Canvas: img}
	return writeTo(path, png)
}

// plotLatency draws a histogram of each distribution, in milliseconds.
func plotLatency(path string, sets map[string][]time.Duration) error {
	names := make([]string, 0, len(sets))
	for n := range sets {
		names = append(names, n)
	}
	slices.Sort(names)
	var row []*plot.Plot
	var rows [][]*plot.Plot
	for _, n := range names {
		p := plot.New()
		s := sets[n]
		vals := make(plotter.Values, len(s))
		for i, d := range s {
			vals[i] = float64(d.Microseconds()) / 1000
		}
		h, err := plotter.NewHist(vals, 30)
		if err != nil {
			return err
		}
		h.FillColor = color.RGBA{R: 70, G: 110, B: 180, A: 255}
		p.Add(h)
		p.Title.Text = fmt.Sprintf("%s (n=%d)", n, len(s))
		p.X.Label.Text = "ms"
		p.Y.Label.Text = "events"
		row = append(row, p)
		if len(row) == 2 {
			rows = append(rows, row)
			row = nil
		}
	}
	if row != nil {
		rows = append(rows, append(row, nil))
	}
	return save(path, rows, 24*vg.Centimeter, vg.Length(len(rows))*9*vg.Centimeter)
}

// spans returns, for each worker and epoch, the span over which that
// worker passed Check with that epoch. (history.Tenures merges the workers
// of an epoch, which only a broken lease has more than one of.)
func spans(log []worker.Event) []history.Tenure {
	type key struct {
		w int
		e uint64
	}
	by := map[key]*history.Tenure{}
	var order []key
	for _, e := range log {
		if e.Kind != worker.OK {
			continue
		}
		k := key{e.Worker, e.Epoch}
		t := by[k]
		if t == nil {
			by[k] = &history.Tenure{Epoch: e.Epoch, Worker: e.Worker, First: e.T2, Last: e.T1}
			order = append(order, k)
			continue
		}
		t.First, t.Last = min(t.First, e.T2), max(t.Last, e.T1)
	}
	out := make([]history.Tenure, 0, len(order))
	for _, k := range order {
		out = append(out, *by[k])
	}
	return out
}

// plotTimeline draws who passed Check when during the first span of each
// chaos run: one line per tenure, at the height of its worker, with the
// faults as marks along the bottom. Overlapping lines are two owners.
func plotTimeline(path string, runs map[string]*chaos.Result, span time.Duration) error {
	var rows [][]*plot.Plot
	for _, impl := range []string{"owner", "naive"} {
		res := runs[impl]
		if res == nil {
			continue
		}
		p := plot.New()
		var t0 int64 = -1
		for _, e := range res.Events {
			if t0 < 0 || e.T1 < t0 && e.T1 > 0 {
				t0 = e.T1
			}
		}
		sec := func(t int64) float64 { return float64(t-t0) / 1e9 }
		palette := []color.Color{
			color.RGBA{R: 31, G: 119, B: 180, A: 255}, color.RGBA{R: 255, G: 127, B: 14, A: 255},
			color.RGBA{R: 44, G: 160, B: 44, A: 255}, color.RGBA{R: 214, G: 39, B: 40, A: 255},
		}
		for _, t := range spans(res.Events) {
			if sec(t.First) > span.Seconds() {
				continue
			}
			l, err := plotter.NewLine(plotter.XYs{{X: sec(t.First), Y: float64(t.Worker)}, {X: max(sec(t.Last), sec(t.First)+0.02), Y: float64(t.Worker)}})
			if err != nil {
				return err
			}
			l.Width = vg.Points(4)
			l.Color = palette[t.Epoch%uint64(len(palette))]
			p.Add(l)
		}
		var marks plotter.XYs
		for _, f := range res.Faults {
			if x := sec(f.T); x <= span.Seconds() {
				marks = append(marks, plotter.XY{X: x, Y: -1})
			}
		}
		if len(marks) > 0 {
			sc, err := plotter.NewScatter(marks)
			if err != nil {
				return err
			}
			sc.GlyphStyle.Shape = draw.TriangleGlyph{}
			sc.GlyphStyle.Color = color.Gray{Y: 90}
			p.Add(sc)
		}
		title := map[string]string{"owner": "leasehold", "naive": "naive lease (read, check wall clock, write)"}[impl]
		p.Title.Text = fmt.Sprintf("%s: who passed Check, first %v of the chaos run (triangles: faults)", title, span)
		p.X.Label.Text = "seconds"
		p.Y.Label.Text = "worker"
		p.X.Min, p.X.Max = 0, span.Seconds()
		rows = append(rows, []*plot.Plot{p})
	}
	return save(path, rows, 28*vg.Centimeter, 20*vg.Centimeter)
}
