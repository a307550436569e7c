package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/denproject/den/run"
)

func TestDisplayPorts(t *testing.T) {
	ports := []run.Port{
		{HostPort: 8080, ContainerPort: 80, Proto: "tcp"},
		{HostPort: 81, ContainerPort: 81, Proto: "tcp"},
		{HostPort: 82, ContainerPort: 82, Proto: "tcp"},
		{HostIP: "127.0.0.1", HostPort: 53, ContainerPort: 53, Proto: "udp"},
	}
	want := "127.0.0.1:53->53/udp, 0.0.0.0:81-82->81-82/tcp, 0.0.0.0:8080->80/tcp"
	if got := displayPorts(ports); got != want {
		t.Fatalf("displayPorts: %q, want %q", got, want)
	}
}

func TestWriteList(t *testing.T) {
	rows := []psRow{{ID: "abc", Names: "web", labels: map[string]string{"k": "v"}}}
	for format, want := range map[string]string{
		"{{.Names}} {{.Label \"k\"}}": "web v\n",
		`table {{.ID}}\t{{.Names}}`:   "CONTAINER ID   NAMES\nabc            web\n",
		"{{json .Names}}":             "\"web\"\n",
	} {
		var b bytes.Buffer
		if err := writeList(&b, format, false, psFormat, rows); err != nil || b.String() != want {
			t.Errorf("--format %q: %q %v, want %q", format, b.String(), err, want)
		}
	}
	var b bytes.Buffer
	if err := writeList(&b, "json", false, psFormat, rows); err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if json.Unmarshal(b.Bytes(), &m) != nil || m["Names"] != "web" || m["labels"] != nil {
		t.Fatalf("json: %s", b.String())
	}
	for _, bad := range []string{"{{.Nope}}", "{{.ID", "yaml"} {
		b.Reset()
		if err := writeList(&b, bad, false, psFormat, rows); err == nil || b.Len() != 0 || strings.Contains(err.Error(), "\n") {
			t.Errorf("--format %q: %v, wrote %q", bad, err, b.String())
		}
	}
}

func TestWriteInspect(t *testing.T) {
	items := []json.RawMessage{json.RawMessage(`{"State":{"Pid":42,"Running":true}}`)}
	var b bytes.Buffer
	if err := writeInspect(&b, "{{.State.Pid}} {{.State.Running}}", items); err != nil || b.String() != "42 true\n" {
		t.Fatalf("template: %q %v", b.String(), err)
	}
	b.Reset()
	if err := writeInspect(&b, "{{.State.Nope}}", items); err == nil {
		t.Fatal("a missing key is an error")
	}
	var te *templateError
	if err := writeInspect(&b, "{{.State", items); err == nil || !errors.As(err, &te) || te.ExitCode() != 64 {
		t.Fatalf("unparsable template: %v", err)
	}
}
