package pull

import (
	"reflect"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// The --change instructions docker's import takes, as a Dockerfile reads
// them.
func TestApplyChange(t *testing.T) {
	var c v1.Config
	for _, ch := range []string{
		`ENV A=1 B="two words" C=x\ y`,
		`ENV A=3`,
		`ENV OLD a value with spaces`,
		`LABEL org.example.v=1 "quoted"="yes"`,
		`EXPOSE 80 53/udp`,
		`VOLUME ["/data", "/logs"]`,
		`VOLUME /cache`,
		`CMD ["sh", "-c", "echo hi"]`,
		`ENTRYPOINT /bin/tini`,
		`WORKDIR /srv`,
		`USER 1000:1000`,
	} {
		if err := applyChange(&c, ch); err != nil {
			t.Fatalf("%s: %v", ch, err)
		}
	}
	want := v1.Config{
		Env:          []string{"A=3", "B=two words", "C=x y", "OLD=a value with spaces"},
		Labels:       map[string]string{"org.example.v": "1", "quoted": "yes"},
		ExposedPorts: map[string]struct{}{"80/tcp": {}, "53/udp": {}},
		Volumes:      map[string]struct{}{"/data": {}, "/logs": {}, "/cache": {}},
		Cmd:          []string{"sh", "-c", "echo hi"},
		Entrypoint:   []string{"/bin/sh", "-c", "/bin/tini"},
		WorkingDir:   "/srv",
		User:         "1000:1000",
	}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
	for _, bad := range []string{"ENV =1", "ENV", "EXPOSE 0", "EXPOSE 80/xyz", "VOLUME rel", "WORKDIR rel", "RUN make"} {
		if err := applyChange(&v1.Config{}, bad); err == nil {
			t.Errorf("%q was taken", bad)
		}
	}
}
