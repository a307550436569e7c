package overlay

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sirupsen/logrus"
	"go.podman.io/storage/types"
)

// storeConfChild runs in a fresh test process, as the library caches its
// defaults for the life of a process: it opens the defaults the way Open
// does and prints what containers/storage would fall back to.
func storeConfChild() {
	var logs bytes.Buffer
	logrus.SetOutput(&logs)
	logrus.SetLevel(logrus.DebugLevel)
	ignoreStorageConf()
	o, err := types.DefaultStoreOptions()
	out := map[string]any{"driver": o.GraphDriverName, "graphroot": o.GraphRoot, "runroot": o.RunRoot,
		"opts": o.GraphDriverOptions, "logs": logs.String(), "env": os.Getenv("CONTAINERS_STORAGE_CONF")}
	if err != nil {
		out["err"] = err.Error()
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

func TestMain(m *testing.M) {
	if os.Getenv("DEN_TEST_STORECONF") != "" {
		storeConfChild()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestHostileStorageConfIsIgnored: podman settings in any place
// containers/storage looks must not reach den's store, and a broken one
// must not break it.
func TestHostileStorageConfIsIgnored(t *testing.T) {
	dir := t.TempDir()
	hostile := fmt.Sprintf("[storage]\ndriver = \"vfs\"\ngraphroot = %q\nrunroot = %q\n[storage.options]\nmount_program = \"/bin/false\"\n",
		filepath.Join(dir, "elsewhere"), filepath.Join(dir, "elsewhere-run"))
	write := func(p, body string) string {
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	conf := write(filepath.Join(dir, "env", "storage.conf"), hostile)
	broken := write(filepath.Join(dir, "broken.conf"), "[storage\ndriver = ")
	xdg := filepath.Join(dir, "xdg")
	write(filepath.Join(xdg, "containers", "storage.conf"), hostile)
	write(filepath.Join(xdg, "containers", "storage.conf.d", "99-x.conf"), hostile)
	cases := map[string][]string{
		"CONTAINERS_STORAGE_CONF":          {"CONTAINERS_STORAGE_CONF=" + conf},
		"XDG_CONFIG_HOME":                  {"XDG_CONFIG_HOME=" + xdg},
		"CONTAINERS_STORAGE_CONF_OVERRIDE": {"CONTAINERS_STORAGE_CONF_OVERRIDE=" + conf},
		"malformed file":                   {"CONTAINERS_STORAGE_CONF=" + broken},
		"STORAGE_DRIVER":                   {"STORAGE_DRIVER=vfs", "STORAGE_OPTS=vfs.ignore_chown_errors=true"},
	}
	for name, env := range cases {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), "DEN_TEST_STORECONF=1", "HOME="+filepath.Join(dir, "home"))
		cmd.Env = append(cmd.Env, env...)
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: child: %v", name, err)
		}
		var got map[string]any
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: %v: %s", name, err, b)
		}
		if got["err"] != nil {
			t.Errorf("%s: a podman configuration broke the store: %v", name, got["err"])
		}
		if got["driver"] != "" || got["opts"] != nil || strings.Contains(fmt.Sprint(got["graphroot"], got["runroot"]), "elsewhere") {
			t.Errorf("%s: podman settings reached den's store defaults: %v", name, got)
		}
		if logs := got["logs"].(string); strings.Contains(logs, dir) {
			t.Errorf("%s: the library read a configuration file: %s", name, logs)
		}
		if want := strings.TrimPrefix(env[0], "CONTAINERS_STORAGE_CONF="); strings.HasPrefix(env[0], "CONTAINERS_STORAGE_CONF=") && got["env"] != want {
			t.Errorf("%s: the environment was not restored for den's children: %v", name, got["env"])
		}
	}
}
