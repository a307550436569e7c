package run

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/denproject/den/run/dockerjson"
	"github.com/denproject/den/run/spec"
)

func TestCommandJoinsEntrypointAndCmd(t *testing.T) {
	img := v1.Config{Entrypoint: []string{"/entry"}, Cmd: []string{"default"}}
	none := []string{}
	other := []string{"/other"}
	cases := []struct {
		sp   spec.Spec
		want []string
	}{
		{spec.Spec{}, []string{"/entry", "default"}},
		{spec.Spec{Args: []string{"a", "b"}}, []string{"/entry", "a", "b"}},
		{spec.Spec{Entrypoint: &other}, []string{"/other"}},
		{spec.Spec{Entrypoint: &none, Args: []string{"sh"}}, []string{"sh"}},
	}
	for _, c := range cases {
		if got, err := command(img, &c.sp); err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%+v: %q, %v", c.sp, got, err)
		}
	}
	if _, err := command(v1.Config{}, &spec.Spec{Image: "scratch"}); err == nil || !strings.Contains(err.Error(), "no command") {
		t.Errorf("no command: %v", err)
	}
}

func TestContainerEnvOrder(t *testing.T) {
	img := v1.Config{Env: []string{"PATH=/image/bin", "A=image"}}
	sp := &spec.Spec{Tty: true, Env: []string{"A=flag", "B=b"}}
	got := containerEnv(img, sp, "box", "/root")
	want := []string{"PATH=/image/bin", "A=flag", "HOSTNAME=box", "HOME=/root", "container=den", "TERM=xterm", "B=b"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%q\nwant %q", got, want)
	}
}

func TestDoneCarriesStatusMessageAndResult(t *testing.T) {
	var rows []PsRow
	if err := doneError(done([]PsRow{{ID: "abc"}}, nil), &rows); err != nil || len(rows) != 1 || rows[0].ID != "abc" {
		t.Fatalf("result: %v, %v", rows, err)
	}
	err := doneError(done(nil, &ExitError{Code: 42}), nil)
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 42 {
		t.Fatalf("exit status: %v", err)
	}
	err = doneError(done(nil, &codedError{code: 127, msg: "starting nosuch: not found"}), nil)
	var coded interface{ ExitCode() int }
	if !errors.As(err, &coded) || coded.ExitCode() != 127 || err.Error() != "starting nosuch: not found" {
		t.Fatalf("coded: %v", err)
	}
	err = doneError(done(nil, errors.New("plain")), nil)
	if err == nil || errors.As(err, &coded) || err.Error() != "plain" {
		t.Fatalf("plain: %v", err)
	}
}

func TestSplitName(t *testing.T) {
	for in, want := range map[string][2]string{
		"docker.io/library/busybox:latest": {"docker.io/library/busybox", "latest"},
		"localhost:5000/x":                 {"localhost:5000/x", "<none>"},
		"r/x@sha256:abc":                   {"r/x", "<none>"},
	} {
		if r, tag := dockerjson.SplitName(in); r != want[0] || tag != want[1] {
			t.Errorf("dockerjson.SplitName(%q) = %q %q", in, r, tag)
		}
	}
}
