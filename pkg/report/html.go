package report

import (
	"html/template"
	"io"
	"time"

	"github.com/meshguard/meshguard/pkg/policy"
)

// severityColors are the chart and badge colours.
var severityColors = map[string]string{
	"critical": "#7f1d1d", "high": "#dc2626", "medium": "#f59e0b", "low": "#3b82f6", "info": "#6b7280",
}

type htmlBar struct {
	Namespace string
	Total     int
	Y         int
	Segments  []htmlSegment
}

type htmlSegment struct {
	Severity string
	Count    int
	X, W     int
	Color    string
}

type htmlData struct {
	R          *Report
	A          *Audit
	Time       string
	Severities []string
	Colors     map[string]string
	Bars       []htmlBar
	ChartH     int
	TopRules   []string
	Active     []findingRow
	Exempted   []findingRow
	Legend     []htmlLegend
}

type htmlLegend struct {
	Severity, Color string
	X               int
}

// HTML writes the audit as one self-contained page (no external scripts,
// fonts or images): totals, an inline SVG chart of findings per namespace and
// severity, the top rules, a sortable table of findings with remediation,
// exempted findings apart, and the bundle revision and time.
func HTML(w io.Writer, r *Report) error {
	a := auditOf(r)
	d := htmlData{R: r, A: a, Time: a.Time.UTC().Format(time.RFC3339), Severities: policy.Severities, Colors: severityColors}
	max := 1
	for _, n := range a.Totals.ByNamespace {
		if n > max {
			max = n
		}
	}
	const width = 560
	for i, ns := range Ranked(a.Totals.ByNamespace) {
		if i == 25 {
			break // the chart shows the 25 namespaces with most findings
		}
		bar := htmlBar{Namespace: ns, Total: a.Totals.ByNamespace[ns], Y: i * 26}
		x := 0
		for _, sev := range policy.Severities {
			c := a.Totals.NamespaceSeverity[ns][sev]
			if c == 0 {
				continue
			}
			wdt := c * width / max
			if wdt < 2 {
				wdt = 2
			}
			bar.Segments = append(bar.Segments, htmlSegment{Severity: sev, Count: c, X: x, W: wdt, Color: severityColors[sev]})
			x += wdt
		}
		d.Bars = append(d.Bars, bar)
	}
	d.ChartH = len(d.Bars)*26 + 10
	for i, sev := range policy.Severities {
		d.Legend = append(d.Legend, htmlLegend{Severity: sev, Color: severityColors[sev], X: 220 + i*90})
	}
	d.TopRules = Ranked(a.Totals.ByRule)
	if len(d.TopRules) > 10 {
		d.TopRules = d.TopRules[:10]
	}
	d.Active, d.Exempted = rows(r)
	return htmlTemplate.Execute(w, d)
}

var htmlTemplate = template.Must(template.New("audit").Funcs(template.FuncMap{
	"add": func(a, b int) int { return a + b },
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>meshguard audit</title>
<style>
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem;color:#111827;background:#fff}
h1{margin:0 0 .25rem}h2{margin-top:2rem;border-bottom:1px solid #e5e7eb;padding-bottom:.25rem}
.meta{color:#4b5563;font-size:.9rem}
.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{border:1px solid #e5e7eb;border-radius:.5rem;padding:.75rem 1rem;min-width:7rem}
.card b{display:block;font-size:1.6rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border-bottom:1px solid #e5e7eb;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#f9fafb;cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" ▲"}th[aria-sort=descending]::after{content:" ▼"}
.sev{color:#fff;border-radius:.25rem;padding:0 .35rem;font-size:.8rem}
.note{background:#fffbeb;border-left:4px solid #f59e0b;padding:.5rem .75rem;margin:.5rem 0}
svg text{font-size:12px;fill:#111827}
code{font-size:.85rem}
</style>
</head>
<body>
<h1>meshguard audit</h1>
<p class="meta">Source: {{.A.Source}} · {{.Time}} · bundle {{.R.Bundle.Revision}}</p>
{{range .A.Notes}}<div class="note">{{.}}</div>{{end}}
<div class="cards" id="totals">
<div class="card">objects<b>{{.R.Summary.Objects}}</b></div>
<div class="card">deny<b>{{.R.Summary.Deny}}</b></div>
<div class="card">warn<b>{{.R.Summary.Warn}}</b></div>
<div class="card">audit<b>{{.R.Summary.Audit}}</b></div>
<div class="card">exempted<b>{{.R.Summary.Exempted}}</b></div>
<div class="card">errors<b>{{.R.Summary.Errors}}</b></div>
</div>

<h2>Findings per namespace and severity</h2>
{{if .Bars}}
<svg id="chart" role="img" aria-label="findings per namespace and severity" width="900" height="{{add .ChartH 24}}" viewBox="0 0 900 {{add .ChartH 24}}">
<g transform="translate(0,0)">
{{- range .Legend}}<rect x="{{.X}}" y="2" width="10" height="10" fill="{{.Color}}"/><text x="{{add .X 14}}" y="11">{{.Severity}}</text>{{end}}
</g>
<g transform="translate(0,24)">
{{- range .Bars}}
<g class="bar" transform="translate(0,{{.Y}})"><text x="210" y="14" text-anchor="end">{{.Namespace}}</text>
{{- range .Segments}}<rect x="{{add 220 .X}}" y="3" width="{{.W}}" height="16" fill="{{.Color}}"><title>{{.Severity}}: {{.Count}}</title></rect>{{end}}
<text x="{{add 226 560}}" y="14">{{.Total}}</text></g>
{{- end}}
</g>
</svg>
{{else}}<p>No findings.</p>{{end}}

<h2>Top rules</h2>
<table id="rules"><thead><tr><th>rule</th><th>title</th><th>findings</th></tr></thead><tbody>
{{- range .TopRules}}<tr><td><code>{{.}}</code></td><td>{{(index $.A.Rules .).Title}}</td><td>{{index $.A.Totals.ByRule .}}</td></tr>{{end}}
</tbody></table>

<h2>Findings</h2>
<table id="findings" class="sortable"><thead><tr><th>severity</th><th>action</th><th>namespace</th><th>object</th><th>rule</th><th>message</th><th>remediation</th></tr></thead><tbody>
{{- range .Active}}<tr><td data-sort="{{.Finding.Severity}}"><span class="sev" style="background:{{index $.Colors .Finding.Severity}}">{{.Finding.Severity}}</span></td><td>{{.Finding.Action}}</td><td>{{.Result.Object.Namespace}}</td><td>{{.Result.Object.Kind}} {{.Result.Object.Name}}</td><td><code>{{.Finding.Rule}}</code></td><td>{{.Finding.Message}}{{if .Finding.Path}} <code>{{.Finding.Path}}</code>{{end}}</td><td>{{.Finding.Remediation}}</td></tr>{{end}}
</tbody></table>

<h2>Exempted</h2>
{{if .Exempted}}<table id="exempted" class="sortable"><thead><tr><th>namespace</th><th>object</th><th>rule</th><th>reason</th><th>until</th><th>exempted by</th></tr></thead><tbody>
{{- range .Exempted}}<tr><td>{{.Result.Object.Namespace}}</td><td>{{.Result.Object.Kind}} {{.Result.Object.Name}}</td><td><code>{{.Finding.Rule}}</code></td><td>{{.Finding.Exemption.Reason}}</td><td>{{.Finding.Exemption.Until}}</td><td>{{.Finding.Exemption.From}}</td></tr>{{end}}
</tbody></table>{{else}}<p>None.</p>{{end}}
{{if .R.Errors}}<h2>Errors</h2><ul>{{range .R.Errors}}<li>{{.Error}}</li>{{end}}</ul>{{end}}
<script>
(function(){
  var order={critical:0,high:1,medium:2,low:3,info:4};
  document.querySelectorAll("table.sortable").forEach(function(t){
    t.querySelectorAll("th").forEach(function(th,col){
      th.addEventListener("click",function(){
        var asc=th.getAttribute("aria-sort")!=="ascending";
        t.querySelectorAll("th").forEach(function(o){o.removeAttribute("aria-sort")});
        th.setAttribute("aria-sort",asc?"ascending":"descending");
        var body=t.tBodies[0],rs=Array.prototype.slice.call(body.rows);
        var key=function(r){var c=r.cells[col],v=c.getAttribute("data-sort")||c.textContent;return v in order?order[v]:v.toLowerCase()};
        rs.sort(function(a,b){var x=key(a),y=key(b);return (x<y?-1:x>y?1:0)*(asc?1:-1)});
        rs.forEach(function(r){body.appendChild(r)});
      });
    });
  });
})();
</script>
</body>
</html>
`))
