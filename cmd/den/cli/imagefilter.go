package cli

import (
	"fmt"
	"path"
	"strings"

	"github.com/denproject/den/pull"
	"github.com/denproject/den/run"
)

// imageMatcher is den images' --filter and REPOSITORY[:TAG] argument, as
// docker reads them: filters of one key are alternatives, different keys
// must all hold.
func imageMatcher(filters, args []string) (func(run.ImageRow) bool, error) {
	var dangling *bool
	var refs []string
	for _, f := range filters {
		k, v, ok := strings.Cut(f, "=")
		switch {
		case !ok:
			return nil, fmt.Errorf("bad filter %q: use KEY=VALUE", f)
		case k == "dangling" && (v == "true" || v == "false"):
			b := v == "true"
			dangling = &b
		case k == "reference":
			refs = append(refs, v)
		default:
			return nil, fmt.Errorf("unsupported filter %q: den images takes dangling=true|false and reference=PATTERN", f)
		}
	}
	if len(args) == 1 {
		refs = append(refs, args[0])
	}
	return func(r run.ImageRow) bool {
		if dangling != nil && (r.Repository == "<none>") != *dangling {
			return false
		}
		if len(refs) == 0 {
			return true
		}
		for _, p := range refs {
			if refMatches(p, r) {
				return true
			}
		}
		return false
	}, nil
}

// refMatches matches a pattern (a glob, or a name that den normalises)
// against a row's full and short names, with or without its tag.
func refMatches(p string, r run.ImageRow) bool {
	if r.Repository == "<none>" {
		return false
	}
	short := strings.TrimPrefix(strings.TrimPrefix(r.Repository, "docker.io/"), "library/")
	for _, repo := range []string{r.Repository, short} {
		for _, cand := range []string{repo, repo + ":" + r.Tag} {
			if ok, _ := path.Match(p, cand); ok {
				return true
			}
		}
	}
	full := pull.Normalize(p)
	if !strings.ContainsAny(p, "*?[") && !strings.Contains(p[strings.LastIndex(p, "/")+1:], ":") {
		return strings.TrimSuffix(full, ":latest") == r.Repository
	}
	return full == r.Repository+":"+r.Tag
}
