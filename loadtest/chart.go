package loadtest

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strings"
)

// Chart is a line chart over time, drawn as inline SVG so that the report needs no scripts or network.
type Chart struct {
	Title string
	// Unit labels the y axis.
	Unit string
	// X are the points' times in seconds.
	X []float64
	// Series share the x values; NaN leaves a gap.
	Series []Series
	// Log draws the y axis logarithmically (latencies).
	Log bool
}

// Series is one line of a Chart.
type Series struct {
	Name   string
	Values []float64
	Color  string
	Dashed bool
}

const (
	chartW, chartH         = 1000.0, 320.0
	padL, padR, padT, padB = 64.0, 16.0, 34.0, 64.0
)

// SVG draws the chart.
func (c Chart) SVG() template.HTML {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg viewBox="0 0 %.0f %.0f" xmlns="http://www.w3.org/2000/svg" role="img" aria-label="%s">`, chartW, chartH, html.EscapeString(c.Title))
	fmt.Fprintf(&b, `<text x="%.0f" y="20" font-size="14" font-weight="600" fill="#1d2733">%s</text>`, padL, html.EscapeString(c.Title))
	xmin, xmax := 0.0, 1.0
	if n := len(c.X); n > 0 {
		xmin, xmax = math.Min(c.X[0], 0), c.X[n-1]
	}
	if xmax <= xmin {
		xmax = xmin + 1
	}
	ymin, ymax := math.Inf(1), math.Inf(-1)
	for _, s := range c.Series {
		for _, v := range s.Values {
			if math.IsNaN(v) || (c.Log && v <= 0) {
				continue
			}
			ymin, ymax = math.Min(ymin, v), math.Max(ymax, v)
		}
	}
	if math.IsInf(ymin, 0) {
		b.WriteString(`<text x="500" y="160" text-anchor="middle" fill="#5b6773">no data</text></svg>`)
		return template.HTML(b.String())
	}
	var ticks []float64
	var ty func(float64) float64
	plotH := chartH - padT - padB
	plotW := chartW - padL - padR
	if c.Log {
		lo := math.Floor(math.Log10(math.Max(ymin, 1e-3)))
		hi := math.Ceil(math.Log10(ymax))
		if hi <= lo {
			hi = lo + 1
		}
		for e := lo; e <= hi; e++ {
			ticks = append(ticks, math.Pow(10, e))
		}
		ty = func(v float64) float64 { return padT + plotH*(1-(math.Log10(math.Max(v, 1e-3))-lo)/(hi-lo)) }
	} else {
		ymin = 0
		step := niceStep(ymax / 5)
		top := math.Max(step, math.Ceil(ymax/step)*step)
		for v := 0.0; v <= top+step/2; v += step {
			ticks = append(ticks, v)
		}
		ty = func(v float64) float64 { return padT + plotH*(1-v/top) }
	}
	tx := func(v float64) float64 { return padL + plotW*(v-xmin)/(xmax-xmin) }
	for _, t := range ticks {
		y := ty(t)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#eef1f4"/>`, padL, chartW-padR, y, y)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="end" fill="#5b6773">%s</text>`, padL-6, y+4, tickLabel(t, c.Unit))
	}
	xstep := niceStep((xmax - xmin) / 10)
	for v := math.Ceil(xmin/xstep) * xstep; v <= xmax+1e-9; v += xstep {
		x := tx(v)
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="#f3f5f7"/>`, x, x, padT, padT+plotH)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="11" text-anchor="middle" fill="#5b6773">%gs</text>`, x, padT+plotH+16, v)
	}
	fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="none" stroke="#c9d2dc"/>`, padL, padT, plotW, plotH)
	for _, s := range c.Series {
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		var pts []string
		flush := func() {
			if len(pts) > 0 {
				fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="1.8"%s points="%s"/>`, s.Color, dash, strings.Join(pts, " "))
				if len(pts) == 1 {
					var x, y float64
					fmt.Sscanf(pts[0], "%f,%f", &x, &y)
					fmt.Fprintf(&b, `<circle cx="%.1f" cy="%.1f" r="2" fill="%s"/>`, x, y, s.Color)
				}
			}
			pts = pts[:0]
		}
		for i, v := range s.Values {
			if i >= len(c.X) || math.IsNaN(v) || (c.Log && v <= 0) {
				flush()
				continue
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", tx(c.X[i]), ty(v)))
		}
		flush()
	}
	// Legend below the plot.
	lx := padL
	ly := chartH - 18
	for _, s := range c.Series {
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		fmt.Fprintf(&b, `<line x1="%.1f" x2="%.1f" y1="%.1f" y2="%.1f" stroke="%s" stroke-width="2"%s/>`, lx, lx+22, ly, ly, s.Color, dash)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="12" fill="#1d2733">%s</text>`, lx+27, ly+4, html.EscapeString(s.Name))
		lx += 40 + 7*float64(len(s.Name))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String())
}

// niceStep rounds a raw tick step to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	switch f := raw / p; {
	case f <= 1:
		return p
	case f <= 2:
		return 2 * p
	case f <= 5:
		return 5 * p
	}
	return 10 * p
}

func tickLabel(v float64, unit string) string {
	s := fmt.Sprintf("%g", v)
	if v >= 1000 && v == math.Trunc(v) {
		s = fmt.Sprintf("%.0fk", v/1000)
		if math.Mod(v, 1000) != 0 {
			s = fmt.Sprintf("%.1fk", v/1000)
		}
	}
	if unit == "" {
		return s
	}
	return s + " " + unit
}
