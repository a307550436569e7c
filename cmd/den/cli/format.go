package cli

// docker's --format, shared by ps, images, inspect and version: "table"
// (the default columns), "table TEMPLATE", "json", or a Go template with
// docker's functions (json, join, split, upper, lower, title, pad,
// truncate), from docker's own templates package.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"text/template"
	"time"

	"github.com/docker/cli/templates"

	"github.com/denproject/den/run"
)

// listFormat is a listing's default table and its column titles, by the
// field each shows.
type listFormat struct {
	table  string
	header map[string]string
}

// templateError is docker's "template parsing error", for a template that
// does not parse or does not apply to the rows.
type templateError struct {
	err  error
	code int
}

func (e *templateError) Error() string {
	return "template parsing error: " + strings.ReplaceAll(e.err.Error(), "\n", " ")
}

func (e *templateError) ExitCode() int { return e.code }

// listTemplate turns --format into a template and whether it is a table.
// Without "{{" a format other than table and json is refused: docker
// would print it as it is once per row, which is always a typo.
func listTemplate(format string, quiet bool, lf listFormat) (string, bool, error) {
	switch {
	case quiet:
		return "{{.ID}}", false, nil
	case format == "" || format == "table":
		format = lf.table
	case format == "json":
		return "{{json .}}", false, nil
	case !strings.Contains(format, "{{"):
		return "", false, fmt.Errorf("unknown --format %q: use table, json or a Go template such as '{{.ID}}'", format)
	}
	after, isTable := strings.CutPrefix(format, "table")
	if !isTable {
		after = format
	}
	after = strings.Trim(after, " ")
	return strings.NewReplacer(`\t`, "\t", `\n`, "\n").Replace(after), isTable, nil
}

// writeList renders rows (structs whose exported fields and methods are
// the template's names) as format says, each row on its line; a table
// gets its header and aligned columns. Nothing is written on an error.
func writeList[T any](w io.Writer, format string, quiet bool, lf listFormat, rows []T) error {
	text, isTable, err := listTemplate(format, quiet, lf)
	if err != nil {
		return err
	}
	tmpl, err := templates.Parse(text)
	if err != nil {
		return &templateError{err, 1}
	}
	var buf bytes.Buffer
	for i := range rows {
		if err := tmpl.Execute(&buf, &rows[i]); err != nil {
			return &templateError{err, 1}
		}
		buf.WriteByte('\n')
	}
	if !isTable {
		_, err := buf.WriteTo(w)
		return err
	}
	tw := tabwriter.NewWriter(w, 10, 1, 3, ' ', 0)
	// As docker's: a header a template cannot fill is left as far as it got.
	_ = tmpl.Funcs(templates.HeaderFunctions).Execute(tw, lf.header)
	tw.Write([]byte{'\n'})
	buf.WriteTo(tw)
	return tw.Flush()
}

// writeInspect prints inspect's objects as docker does: a JSON array
// indented by four spaces; "json": the array on one line; else the
// template once per object, applied to its JSON (a name the object lacks
// is an error). A template that does not parse exits 64, as docker's.
func writeInspect(w io.Writer, format string, items []json.RawMessage) error {
	switch format {
	case "":
		b, _ := json.Marshal(items)
		var out bytes.Buffer
		if err := json.Indent(&out, b, "", "    "); err != nil {
			return err
		}
		out.WriteByte('\n')
		_, err := out.WriteTo(w)
		return err
	case "json":
		b, _ := json.Marshal(items)
		_, err := w.Write(append(b, '\n'))
		return err
	}
	tmpl, err := templateCheck(format)
	if err != nil {
		return err
	}
	tmpl = tmpl.Option("missingkey=error")
	var buf bytes.Buffer
	var errs []error
	for _, it := range items {
		if err := executeOnJSON(&buf, tmpl, it); err != nil {
			errs = append(errs, err)
		}
	}
	if _, err := buf.WriteTo(w); err != nil {
		return err
	}
	return errors.Join(errs...)
}

func executeOnJSON(w io.Writer, tmpl *template.Template, raw json.RawMessage) error {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return err
	}
	var one bytes.Buffer
	if err := tmpl.Execute(&one, v); err != nil {
		return &templateError{err, 1}
	}
	one.WriteByte('\n')
	_, err := one.WriteTo(w)
	return err
}

// writeValue prints one value (den version's): "json" or "{{json .}}" as
// JSON, else the template; plain is what an empty format prints.
func writeValue(w io.Writer, format string, v any, plain func(io.Writer) error) error {
	switch format {
	case "":
		return plain(w)
	case "json":
		format = "{{json .}}"
	}
	tmpl, err := templates.Parse(format)
	if err != nil {
		return &templateError{err, 1}
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, v); err != nil {
		return &templateError{err, 1}
	}
	buf.WriteByte('\n')
	_, err = buf.WriteTo(w)
	return err
}

// imageRow is one line of `den images`, with docker's field names.
type imageRow struct {
	Containers   string
	CreatedAt    string
	CreatedSince string
	Digest       string
	ID           string
	Repository   string
	SharedSize   string
	Size         string
	Tag          string
	UniqueSize   string
	VirtualSize  string
}

var imageFormat = listFormat{
	table: "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
	header: map[string]string{"Containers": "CONTAINERS", "CreatedAt": "CREATED AT", "CreatedSince": "CREATED",
		"Digest": "DIGEST", "ID": "IMAGE ID", "Repository": "REPOSITORY", "SharedSize": "SHARED SIZE",
		"Size": "SIZE", "Tag": "TAG", "UniqueSize": "UNIQUE SIZE", "VirtualSize": "VIRTUAL SIZE"},
}

// writeImages is `den images --format` (and -q, --no-trunc, --digests),
// for images.go: docker's columns, and with json one object per line
// with docker's keys.
func writeImages(w io.Writer, rows []run.ImageRow, format string, quiet, noTrunc, digests bool) error {
	lf := imageFormat
	if digests {
		lf.table = "table {{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
	}
	out := make([]imageRow, 0, len(rows))
	seen := map[string]bool{}
	for _, r := range rows {
		id := "sha256:" + r.ID
		if !noTrunc {
			id = r.ID[:min(12, len(r.ID))]
		}
		if quiet && seen[id] {
			continue // docker images -q names each image once
		}
		seen[id] = true
		digest := r.Digest
		if digest == "" {
			digest = "<none>"
		}
		out = append(out, imageRow{Containers: "N/A", CreatedAt: r.Created.Truncate(time.Second).Local().String(),
			CreatedSince: ago(r.Created), Digest: digest, ID: id, Repository: r.Repository,
			SharedSize: "N/A", Size: size(r.Size), Tag: r.Tag, UniqueSize: "N/A", VirtualSize: size(r.Size)})
	}
	return writeList(w, format, quiet, lf, out)
}

// templateCheck parses an inspect template before den does any work, as
// docker does.
func templateCheck(format string) (*template.Template, error) {
	if format == "" || format == "json" {
		return nil, nil
	}
	tmpl, err := templates.Parse(format)
	if err != nil {
		return nil, &templateError{err, 64}
	}
	return tmpl, nil
}
