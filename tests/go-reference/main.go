// Command go-reference renders templates with Go's own text/template and
// the Versus function map, so that the differential test
// (tests/integration/template_diff) can compare our renderer with Go byte
// for byte.
//
// Input on stdin: a JSON array of {"name", "template", "data"}, where
// "data" is the JSON document as text. It is decoded as upstream decodes a
// request body: encoding/json into map[string]interface{}.
//
// Output on stdout: a JSON array of {"name", "out", "err"}: "out" is the
// rendered bytes in hex (Go may emit invalid UTF-8), "err" the error text
// when parsing or executing failed (then "out" is empty).
//
// The function map follows upstream Versus's documented semantics; Go's
// builtins (eq, lt, and, or, len, index, slice, printf, urlquery) stay
// Go's, as in our renderer. Build with GO111MODULE=off and
// GOPATH=/usr/share/gocode (Debian's golang-golang-x-text-dev provides
// golang.org/x/text for `title`).
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html"
	"os"
	"regexp"
	"strings"
	"text/template"
	"time"

	"golang.org/x/text/cases"
	"golang.org/x/text/language"
)

type input struct {
	Name     string `json:"name"`
	Template string `json:"template"`
	Data     string `json:"data"`
}

type output struct {
	Name string  `json:"name"`
	Out  string  `json:"out"`
	Err  *string `json:"err"`
}

// dictionary is what `dict` returns: a map with a Set method, so that
// `{{ $d.Set "k" "v" }}` works as upstream documents.
type dictionary map[string]interface{}

func (d dictionary) Set(key string, value interface{}) dictionary {
	d[key] = value
	return d
}

// timeLayouts are the layouts `format` tries on a string, in order.
var timeLayouts = []string{
	time.RFC3339, time.RFC3339Nano, time.RFC1123, time.RFC1123Z, time.RFC822,
	time.RFC822Z, time.RFC850, "2006-01-02T15:04:05", "2006-01-02 15:04:05",
	"2006/01/02 15:04:05", "2006-01-02", "01/02/2006",
}

func funcs() template.FuncMap {
	return template.FuncMap{
		"upper":      strings.ToUpper,
		"lower":      strings.ToLower,
		"title":      func(s string) string { return cases.Title(language.English).String(s) },
		"replace":    strings.ReplaceAll,
		"replaceAll": strings.ReplaceAll,
		"contains":   strings.Contains,
		"trimPrefix": strings.TrimPrefix,
		"trimSuffix": strings.TrimSuffix,
		"split":      strings.Split,
		"join":       strings.Join,
		"default": func(value, fallback interface{}) interface{} {
			if value == nil {
				return fallback
			}
			if s, ok := value.(string); ok && s == "" {
				return fallback
			}
			return value
		},
		"truncate": func(s string, n int) string {
			if len(s) <= n {
				return s
			}
			return s[:n]
		},
		"formatTime": func(s string) string {
			t, err := time.Parse(time.RFC3339, s)
			if err != nil {
				return "Invalid time"
			}
			return t.Format("2006-01-02 15:04:05")
		},
		"format": func(layout string, t interface{}) string {
			switch v := t.(type) {
			case time.Time:
				return v.Format(layout)
			case string:
				for _, l := range timeLayouts {
					if parsed, err := time.Parse(l, v); err == nil {
						return parsed.Format(layout)
					}
				}
				return "Invalid time format"
			default:
				return fmt.Sprintf("Unsupported type for format: %T", t)
			}
		},
		"now":      time.Now,
		"env":      os.Getenv,
		"toString": func(v interface{}) string { return fmt.Sprintf("%v", v) },
		"stringSlice": func(items []interface{}) []string {
			out := make([]string, len(items))
			for i, v := range items {
				out[i] = fmt.Sprint(v)
			}
			return out
		},
		"escapeHTML": func(v interface{}) string { return html.EscapeString(fmt.Sprint(v)) },
		"dict": func(pairs ...interface{}) (dictionary, error) {
			if len(pairs)%2 != 0 {
				return nil, fmt.Errorf("dict expects an even number of arguments")
			}
			d := make(dictionary, len(pairs)/2)
			for i := 0; i < len(pairs); i += 2 {
				key, ok := pairs[i].(string)
				if !ok {
					return nil, fmt.Errorf("dict keys must be strings")
				}
				d[key] = pairs[i+1]
			}
			return d, nil
		},
		"list":   func(items ...interface{}) []interface{} { return items },
		"append": func(list []interface{}, items ...interface{}) []interface{} { return append(list, items...) },
		"add":    add,
		"include": func(name string, data interface{}) (string, error) {
			return "", nil
		},
		"regexMatch": func(pattern, s string) bool {
			matched, _ := regexp.MatchString(pattern, s)
			return matched
		},
	}
}

func add(a, b interface{}) interface{} {
	switch x := a.(type) {
	case int:
		switch y := b.(type) {
		case int:
			return x + y
		case float64:
			return float64(x) + y
		}
	case float64:
		switch y := b.(type) {
		case int:
			return x + float64(y)
		case float64:
			return x + y
		}
	}
	return fmt.Sprintf("%v%v", a, b)
}

func render(c input) (string, error) {
	var data map[string]interface{}
	if err := json.Unmarshal([]byte(c.Data), &data); err != nil {
		return "", fmt.Errorf("data: %w", err)
	}
	t, err := template.New("message").Funcs(funcs()).Parse(c.Template)
	if err != nil {
		return "", err
	}
	var out strings.Builder
	if err := t.Execute(&out, data); err != nil {
		return "", err
	}
	return out.String(), nil
}

func main() {
	var cases []input
	if err := json.NewDecoder(os.Stdin).Decode(&cases); err != nil {
		fmt.Fprintln(os.Stderr, "go-reference: reading cases:", err)
		os.Exit(2)
	}
	results := make([]output, 0, len(cases))
	for _, c := range cases {
		out, err := render(c)
		r := output{Name: c.Name, Out: hex.EncodeToString([]byte(out))}
		if err != nil {
			msg := err.Error()
			r.Err = &msg
			r.Out = ""
		}
		results = append(results, r)
	}
	if err := json.NewEncoder(os.Stdout).Encode(results); err != nil {
		fmt.Fprintln(os.Stderr, "go-reference: writing results:", err)
		os.Exit(2)
	}
}
