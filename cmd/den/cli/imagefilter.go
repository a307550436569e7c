package cli

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/denproject/den/pull"
	"github.com/denproject/den/run"
)

// imageMatcher is den images' --filter and REPOSITORY[:TAG] argument, as
// docker reads them: filters of one key are alternatives, different keys
// must all hold.
func imageMatcher(filters, args []string, rows []run.ImageRow) (func(run.ImageRow) bool, error) {
	var dangling *bool
	var refs []string
	var before, since []time.Time
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
		case k == "before" || k == "since":
			t, err := createdOf(v, rows)
			if err != nil {
				return nil, fmt.Errorf("bad filter %q: %w", f, err)
			}
			if k == "before" {
				before = append(before, t)
			} else {
				since = append(since, t)
			}
		default:
			return nil, fmt.Errorf("unsupported filter %q: den images takes dangling=true|false, reference=PATTERN, before=IMAGE and since=IMAGE", f)
		}
	}
	if len(args) == 1 {
		refs = append(refs, args[0])
	}
	return func(r run.ImageRow) bool {
		if dangling != nil && (r.Repository == "<none>") != *dangling {
			return false
		}
		for _, t := range before {
			if !r.Created.Before(t) {
				return false
			}
		}
		for _, t := range since {
			if !r.Created.After(t) {
				return false
			}
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

// createdOf is the creation time of the image before= or since= names,
// by name or ID.
func createdOf(ref string, rows []run.ImageRow) (time.Time, error) {
	id := strings.TrimPrefix(ref, "sha256:")
	for _, r := range rows {
		if refMatches(ref, r) || len(id) >= 3 && strings.HasPrefix(r.ID, id) {
			return r.Created, nil
		}
	}
	return time.Time{}, fmt.Errorf("no such image: %s", ref)
}
