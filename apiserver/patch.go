package apiserver

import (
	"fmt"
	"strings"
)

// mergePatch applies an RFC 7386 merge patch.
func mergePatch(doc any, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	d, ok := doc.(map[string]any)
	if !ok {
		d = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(d, k)
			continue
		}
		d[k] = mergePatch(d[k], v)
	}
	return d
}

// listMergeKeys are the keys by which Kubernetes' strategic merge patch merges lists of
// objects, by field name. A list not named here is replaced whole, as in a merge patch.
var listMergeKeys = map[string][]string{
	"containers":       {"name"},
	"initContainers":   {"name"},
	"env":              {"name"},
	"volumes":          {"name"},
	"volumeMounts":     {"mountPath"},
	"ports":            {"containerPort", "port"}, // container ports, service ports
	"imagePullSecrets": {"name"},
	"conditions":       {"type"},
	"addresses":        {"type"},
	"ownerReferences":  {"uid"},
	"taints":           {"key"},
}

// strategicMerge applies the subset of Kubernetes' strategic merge patch that kubectl apply
// uses: maps merge as in a merge patch; lists named in listMergeKeys merge item by item on
// their key (an item with "$patch": "delete" is removed); "$patch": "replace" replaces a map;
// "$deleteFromPrimitiveList/F" removes values from a list of scalars; "$setElementOrder/F"
// and "$retainKeys" are accepted and ignored (order follows the patch's new items).
func strategicMerge(doc any, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	if p["$patch"] == "replace" {
		out := map[string]any{}
		for k, v := range p {
			if k != "$patch" {
				out[k] = v
			}
		}
		return out
	}
	if p["$patch"] == "delete" {
		return nil
	}
	d, ok := doc.(map[string]any)
	if !ok {
		d = map[string]any{}
	}
	for k, v := range p {
		switch {
		case k == "$retainKeys" || k == "$patch" || strings.HasPrefix(k, "$setElementOrder/"):
			continue
		case strings.HasPrefix(k, "$deleteFromPrimitiveList/"):
			field := strings.TrimPrefix(k, "$deleteFromPrimitiveList/")
			d[field] = removeValues(d[field], v)
			continue
		}
		if v == nil {
			delete(d, k)
			continue
		}
		if list, ok := v.([]any); ok {
			if keys, ok := listMergeKeys[k]; ok {
				if orig, ok := d[k].([]any); ok {
					d[k] = mergeList(orig, list, keys)
					continue
				}
				d[k] = stripDirectives(list)
				continue
			}
			d[k] = v
			continue
		}
		merged := strategicMerge(d[k], v)
		if merged == nil {
			delete(d, k)
		} else {
			d[k] = merged
		}
	}
	return d
}

func mergeKeyOf(item map[string]any, keys []string) (string, bool) {
	for _, k := range keys {
		if v, ok := item[k]; ok {
			return k + "=" + fmt.Sprint(v), true
		}
	}
	return "", false
}

func mergeList(orig, patch []any, keys []string) []any {
	out := append([]any(nil), orig...)
	for _, pv := range patch {
		pm, ok := pv.(map[string]any)
		if !ok {
			out = append(out, pv)
			continue
		}
		key, ok := mergeKeyOf(pm, keys)
		if !ok {
			out = append(out, pv)
			continue
		}
		found := -1
		for i, ov := range out {
			if om, ok := ov.(map[string]any); ok {
				if k, ok := mergeKeyOf(om, keys); ok && k == key {
					found = i
					break
				}
			}
		}
		if pm["$patch"] == "delete" {
			if found >= 0 {
				out = append(out[:found], out[found+1:]...)
			}
			continue
		}
		if found >= 0 {
			out[found] = strategicMerge(out[found], pm)
		} else {
			out = append(out, strategicMerge(nil, pm))
		}
	}
	return out
}

func stripDirectives(list []any) []any {
	out := make([]any, 0, len(list))
	for _, v := range list {
		if m, ok := v.(map[string]any); ok {
			if m["$patch"] == "delete" {
				continue
			}
			out = append(out, strategicMerge(nil, m))
			continue
		}
		out = append(out, v)
	}
	return out
}

func removeValues(list any, remove any) any {
	l, ok := list.([]any)
	r, ok2 := remove.([]any)
	if !ok || !ok2 {
		return list
	}
	var out []any
	for _, v := range l {
		drop := false
		for _, x := range r {
			if fmt.Sprint(v) == fmt.Sprint(x) {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, v)
		}
	}
	return out
}
