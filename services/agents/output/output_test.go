package output

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/fuzzyllama/fuzzyllama/services/agents/provider"
)

// realistic is an answer as a model writes one: a preamble, documents, a fenced handoff.
const realistic = "Sure! Here are the documents for G2.\n\n" +
	"<document type=\"requirements\" title=\"Product Requirements Document\">\n" +
	"# Product Requirements Document\n\n## FR-1: Publish recipes\n\n  indented line kept\n\n" +
	"</document>\n" +
	"  <document title='User Stories' type=\"USER_STORY\">  \n" +
	"# User Stories\n<handoff>\n</document >\r\n" +
	"</document>\n" +
	"Some commentary the parser ignores.\n" +
	"<handoff>\n```json\n" +
	`{"deliverables":["requirements","user_story"],"nextRoles":["architect"],"notes":"Assumption: one kitchen per account.",` +
	`"tasks":[{"key":"api","title":" Design the API ","description":"REST","ownerRole":"Architect","priority":"HIGH","dependsOn":[]},` +
	`{"key":"db","title":"Schema","ownerRole":"architect","dependsOn":["api"]}]}` +
	"\n```\n</handoff>\nThanks!"

func TestParseRealistic(t *testing.T) {
	got, err := Parse(realistic)
	if err != nil {
		t.Fatal(err)
	}
	want := Output{
		Documents: []Document{
			{Type: "requirements", Title: "Product Requirements Document",
				Content: "# Product Requirements Document\n\n## FR-1: Publish recipes\n\n  indented line kept\n"},
			// Tag-like lines inside a document are content; only </document> alone closes it.
			{Type: "user_story", Title: "User Stories", Content: "# User Stories\n<handoff>\n</document >\r"},
		},
		Handoff: Handoff{
			Deliverables: []string{"requirements", "user_story"},
			NextRoles:    []string{"architect"},
			Notes:        "Assumption: one kitchen per account.",
			Tasks: []Task{
				{Key: "api", Title: "Design the API", Description: "REST", OwnerRole: "architect", Priority: "high"},
				{Key: "db", Title: "Schema", OwnerRole: "architect", Priority: "medium", DependsOn: []string{"api"}},
			},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
	if err := got.Check([]provider.DocSpec{{Type: "requirements", Title: "product requirements document"},
		{Type: "user_story", Title: "User Stories"}}); err != nil {
		t.Fatal(err)
	}
	roundTrip(t, got)
}

func TestParseAttributes(t *testing.T) {
	text := `<document type="other" title="R&D &amp; &quot;Ops&quot; &#x26; &#39;x&#39; &bogus; &#0;">` + "\nx\n</document>\n" +
		"<handoff>\n{}\n</handoff>"
	got, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	if want := `R&D & "Ops" & 'x' &bogus; &#0;`; got.Documents[0].Title != want {
		t.Fatalf("title %q, want %q", got.Documents[0].Title, want)
	}
	roundTrip(t, got)
}

func TestParseErrors(t *testing.T) {
	doc := func(attrs, content string) string { return "<document " + attrs + ">\n" + content + "\n</document>\n" }
	handoff := func(js string) string { return "<handoff>\n" + js + "\n</handoff>\n" }
	okHandoff := handoff(`{"deliverables":["requirements"]}`)
	req := doc(`type="requirements" title="PRD"`, "# PRD")
	tests := []struct {
		name, text string
		want       []string // each must be one problem, in this order
	}{
		{"no title", "intro\n" + doc(`type="requirements"`, "x") + okHandoff,
			[]string{"line 2: <document> has no title attribute"}},
		{"no type, empty title", doc(`title=" "`, "x") + handoff(`{}`),
			[]string{"line 1: <document> has no type attribute", "line 1: <document> has an empty title"}},
		{"unknown type", doc(`type="novel" title="A"`, "x") + handoff(`{}`),
			[]string{`line 1: document type "novel" is not one of intake, requirements`}},
		{"unspecified is not a type", doc(`type="unspecified" title="A"`, "x") + handoff(`{}`),
			[]string{`line 1: document type "unspecified" is not one of`}},
		{"never closed", "a\nb\n<document type=\"intake\" title=\"X\">\nbody\n" + okHandoff,
			[]string{`document "X" (line 3) is never closed with </document> (so the tag at line 5 is taken as part of its content)`}},
		{"no handoff", req, []string{"no <handoff> block: the answer must end with one"}},
		{"invalid JSON", req + handoff(`{"deliverables": ["requirements"],, }`),
			[]string{"handoff: invalid JSON at offset 35 (line 5): invalid character ','"}},
		{"cut short", req + handoff(`{"deliverables": [`), []string{"handoff: the JSON object is cut short"}},
		{"not an object", req + handoff(`["requirements"]`), []string{"handoff (line 4) must be one JSON object"}},
		{"wrong field type", req + handoff(`{"deliverables":"requirements"}`),
			[]string{"handoff: deliverables must be an array, not a JSON string"}},
		{"trailing JSON", req + handoff(`{} {}`), []string{"handoff: unexpected text after the JSON object"}},
		{"empty handoff", req + "<handoff>\n```json\n```\n</handoff>", []string{"handoff (line 4) is empty"}},
		{"handoff on one line", req + `<handoff>{"deliverables":[]}</handoff>` + "\n",
			[]string{"line 4: the <handoff> tag must stand alone on its line"}},
		{"two handoffs", req + okHandoff + okHandoff,
			[]string{"line 7: a second <handoff> block (the first is at line 4)"}},
		{"stray close", "</document>\n" + req + okHandoff, []string{"line 1: </document> without an opening tag"}},
		{"text after tag", `<document type="intake" title="I">body` + "\nx\n</document>\n" + handoff(`{}`),
			[]string{"line 1: text follows the <document> tag"}},
		{"unquoted", "<document type=intake title=\"I\">\nx\n</document>\n" + handoff(`{}`),
			[]string{"line 1: <document> attribute type must be quoted"}},
		{"unterminated tag", "<document type=\"intake\" title=\"I\"\nx\n</document>\n" + handoff(`{}`),
			[]string{"line 1: the <document> tag is not closed with >"}},
		{"empty content", "<document type=\"intake\" title=\"I\">\n  \n</document>\n" + handoff(`{}`),
			[]string{`document "I" (line 1) is empty`}},
		{"duplicate", req + doc(`type="requirements" title="prd"`, "y") + okHandoff,
			[]string{`document "prd" (line 4) repeats the type and title of the document at line 1`}},
		{"multi-line title entity", doc(`type="intake" title="a&#10;b"`, "x") + handoff(`{}`),
			[]string{"must be one line without control characters"}},
		{"long title", doc(`type="intake" title="`+strings.Repeat("é", 201)+`"`, "x") + handoff(`{}`),
			[]string{"is 201 characters long; at most 200 are allowed"}},
		{"big content", doc(`type="intake" title="I"`, strings.Repeat("a", MaxContentBytes+1)) + handoff(`{}`),
			[]string{`document "I" (line 1) is 524289 bytes long; at most 512 KiB are allowed`}},
		{"invalid UTF-8", doc(`type="intake" title="I"`, "a\xffb") + handoff(`{}`),
			[]string{`document "I" (line 1) is not valid UTF-8`}},
		{"deliverable without document", req + handoff(`{"deliverables":["requirements","api_spec","nope","requirements"]}`),
			[]string{`handoff: deliverables[1] "api_spec" has no <document> block in this answer`,
				`handoff: deliverables[2] "nope" is not a document type`,
				`handoff: deliverables[3] "requirements" repeats deliverables[0]`}},
		{"bad next role", req + handoff(`{"deliverables":["requirements"],"nextRoles":["wizard"]}`),
			[]string{`handoff: nextRoles[0] "wizard" is not an agent role`}},
		{"notes control characters", req + handoff(`{"notes":"a\u0000b"}`),
			[]string{"handoff: notes contains control characters"}},
		{"task problems", req + handoff(`{"tasks":[`+
			`{"key":"a","title":"A","ownerRole":"architect","dependsOn":["db","a"]},`+
			`{"key":"a","title":"","ownerRole":"","priority":"urgent"},`+
			`{"key":"","title":"C","ownerRole":"chef","description":"x"}]}`),
			[]string{
				`handoff: tasks[1].key "a" is also the key of tasks[0]`,
				`handoff: tasks[1] ("a") has no title`,
				`handoff: tasks[1].priority "urgent" is not one of low, medium, high, critical`,
				`handoff: tasks[2] has no key`,
				`handoff: tasks[2].ownerRole "chef" is not an agent role`,
				`handoff: tasks[0].dependsOn names "db", which is not a task key in this handoff`,
				`handoff: tasks[0] ("a") depends on itself`,
			}},
		{"gates and done tasks", req + handoff(`{"tasks":[`+
			`{"key":"a","title":"A","gate":10},{"key":"b","title":"B","gate":-1}],`+
			`"doneTasks":["x"," ","x","a\nb"]}`),
			[]string{
				`handoff: tasks[0].gate 10 is not a gate: 1 to 9`,
				`handoff: tasks[1].gate -1 is not a gate: 1 to 9`,
				`handoff: doneTasks[1] is empty`,
				`handoff: doneTasks[2] "x" repeats doneTasks[0]`,
				`handoff: doneTasks[3] must be one line`,
			}},
		{"gate in words", req + handoff(`{"tasks":[{"key":"a","title":"A","gate":"Development"}]}`),
			[]string{`handoff: invalid JSON: gate must be a gate number such as 5, not "Development"`}},
		{"file without path", "<file>\nx\n</file>\n" + handoff(`{}`), []string{"line 1: <file> has no path attribute"}},
		{"file paths", "<file path=\"/etc/passwd\">\nx\n</file>\n<file path=\"a/../b\">\nx\n</file>\n" +
			"<file path=\"a\\b\">\nx\n</file>\n<file path=\"\">\nx\n</file>\n<file path=\".git/config\">\nx\n</file>\n" + handoff(`{}`),
			[]string{`line 1: <file> path: the path "/etc/passwd" is absolute`, `line 4: <file> path: the path "a/../b" has a ".." segment`,
				`line 7: <file> path: the path "a\\b" has a backslash`, "line 10: <file> path: the path is empty",
				`line 13: <file> path: the path ".git/config" has a .git segment`}},
		{"long path", "<file path=\"" + strings.Repeat("a/", 100) + "b\">\nx\n</file>\n" + handoff(`{}`),
			[]string{"line 1: <file> path: the path is 201 bytes long; at most 200 are allowed"}},
		{"same path in another case", "<file path=\"src/App.tsx\">\nx\n</file>\n<file path=\"SRC/app.tsx\">\ny\n</file>\n" + handoff(`{}`),
			[]string{`file "SRC/app.tsx" (line 4) repeats the path of the file at line 1 (paths differing only in case are the same file)`}},
		{"file and directory", "<file path=\"a/b/c.go\">\nx\n</file>\n<file path=\"A/b\">\ny\n</file>\n" + handoff(`{}`),
			[]string{`file "a/b/c.go" (line 1) is inside "a/b", which is also a file (line 4)`}},
		{"file and code document", "<document type=\"code\" title=\"Main.go\">\nx\n</document>\n<file path=\"main.go\">\ny\n</file>\n" + handoff(`{}`),
			[]string{`file "main.go" (line 4) has the path of a code document of this answer`}},
		{"file contents", "<file path=\"big.txt\">\n" + strings.Repeat("a", MaxFileBytes) + "\n</file>\n" +
			"<file path=\"bad.txt\">\na\xffb\n</file>\n<file path=\"nul.bin\">\na\x00b\n</file>\n" + handoff(`{}`),
			[]string{`file "big.txt" (line 1) is 524289 bytes long; at most 512 KiB are allowed`,
				`file "bad.txt" (line 4) is not valid UTF-8`, `file "nul.bin" (line 7) contains a NUL character`}},
		{"file never closed", "<file path=\"main.go\">\npackage main\n</document>\n" + okHandoff,
			[]string{`file "main.go" (line 1) is never closed with </file> (so the tag at line 4 is taken as part of its content)`}},
		{"file tags", "</file>\n<file path=\"a\"/>\n</file>\n<file path=\"b\">x\n</file>\n<file path='c' path='d'>\n</file>\n" + handoff(`{}`),
			[]string{"line 1: </file> without an opening tag", "line 2: a <file> tag cannot be self-closing",
				"line 4: text follows the <file> tag", "line 6: <file> has two path attributes"}},
		{"code deliverable without code", req + handoff(`{"deliverables":["requirements","code"]}`),
			[]string{`handoff: deliverables[1] "code" has no <file> or code <document> block in this answer`}},
		{"cycle", req + handoff(`{"tasks":[`+
			`{"key":"x","title":"X","ownerRole":"qa_engineer"},`+
			`{"key":"a","title":"A","ownerRole":"qa_engineer","dependsOn":["x","b"]},`+
			`{"key":"b","title":"B","ownerRole":"qa_engineer","dependsOn":["c"]},`+
			`{"key":"c","title":"C","ownerRole":"qa_engineer","dependsOn":["a"]}]}`),
			[]string{`handoff: tasks form a dependency cycle: "a" → "b" → "c" → "a"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.text)
			var perr *Error
			if !errors.As(err, &perr) {
				t.Fatalf("err = %v, want *Error", err)
			}
			if len(perr.Problems) != len(tt.want) {
				t.Fatalf("problems:\n%s\nwant %d", strings.Join(perr.Problems, "\n"), len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.Contains(perr.Problems[i], w) {
					t.Errorf("problem %d = %q, want it to contain %q", i, perr.Problems[i], w)
				}
			}
		})
	}
}

// TestParseFiles: file blocks give the files verbatim, each line with its break; inside a file
// only </file> alone on a line ends it, so tags of the contract in source code are content.
func TestParseFiles(t *testing.T) {
	text := "Here is the backend.\n" +
		"<file path=\" backend/go.mod \">\nmodule example.com/backend\n\ngo 1.22\n</file>\n" +
		"<file path='backend/gen/contract.txt'>\r\n<document type=\"code\" title=\"x\">\r\n</document>\r\n<handoff>\r\n  </file>x\r\n<file path=\"y\">\r\n\t</file> \r\n" +
		"<file path=\"backend/internal/__init__.py\">\n</file>\n" +
		"<file path=\"README.md\">\n\n# Title\n\n\n</file>\n" +
		"<document type=\"other\" title=\"Notes\">\n<file path=\"not/a/file\">\n</file>\n</document>\n" +
		"<handoff>\n{\"deliverables\":[\"code\",\"other\"]}\n</handoff>\n"
	got, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	want := Output{
		Documents: []Document{{Type: "other", Title: "Notes", Content: "<file path=\"not/a/file\">\n</file>"}},
		Files: []File{
			{Path: "backend/go.mod", Content: "module example.com/backend\n\ngo 1.22\n"},
			{Path: "backend/gen/contract.txt", Content: "<document type=\"code\" title=\"x\">\r\n</document>\r\n<handoff>\r\n  </file>x\r\n<file path=\"y\">\r\n"},
			{Path: "backend/internal/__init__.py", Content: ""},
			{Path: "README.md", Content: "\n# Title\n\n\n"},
		},
		Handoff: Handoff{Deliverables: []string{"code", "other"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got  %#v\nwant %#v", got, want)
	}
	roundTrip(t, got)
	if err := got.Check([]provider.DocSpec{{Type: "code", Files: true}}); err != nil {
		t.Fatal(err)
	}
	stored := got.AsDocuments()
	if len(stored) != 5 || stored[0] != got.Documents[0] ||
		stored[1] != (Document{Type: "code", Title: "backend/go.mod", Content: "module example.com/backend\n\ngo 1.22\n"}) {
		t.Fatalf("stored %#v", stored)
	}
}

func TestTooManyFiles(t *testing.T) {
	var b strings.Builder
	for i := 0; i < MaxFiles+1; i++ {
		b.WriteString("<file path=\"f" + strconv.Itoa(i) + "\">\nx\n</file>\n")
	}
	big := strings.Repeat(strings.Repeat("a", 1023)+"\n", MaxFileBytes>>10)
	for i := 0; i < MaxFilesBytes/MaxFileBytes; i++ {
		b.WriteString("<file path=\"big" + strconv.Itoa(i) + "\">\n" + big + "</file>\n")
	}
	b.WriteString("<handoff>\n{}\n</handoff>\n")
	_, err := Parse(b.String())
	if err == nil || !strings.Contains(err.Error(), "the answer has 533 files; at most 500 are allowed") ||
		!strings.Contains(err.Error(), "the answer's files hold 16778218 bytes; at most 16 MiB are allowed in all") {
		t.Fatalf("err = %v", err)
	}
}

func TestTooMany(t *testing.T) {
	var b strings.Builder
	for i := 0; i < MaxDocuments+1; i++ {
		b.WriteString("<document type=\"other\" title=\"D" + strings.Repeat("x", i) + "\">\nx\n</document>\n")
	}
	b.WriteString("<handoff>\n{\"tasks\":[")
	for i := 0; i < MaxTasks+1; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"key":"k` + strings.Repeat("x", i) + `","title":"T","ownerRole":"architect"}`)
	}
	b.WriteString("]}\n</handoff>\n")
	_, err := Parse(b.String())
	if err == nil || !strings.Contains(err.Error(), "the answer has 21 documents; at most 20") ||
		!strings.Contains(err.Error(), "handoff: 101 tasks; at most 100") {
		t.Fatalf("err = %v", err)
	}
}

// The problem list is bounded: a huge broken answer gives a readable error.
func TestProblemsBounded(t *testing.T) {
	text := strings.Repeat("</document>\n", 10000)
	_, err := Parse(text)
	var perr *Error
	if !errors.As(err, &perr) || len(perr.Problems) != maxProblems+1 ||
		!strings.HasPrefix(perr.Problems[maxProblems], "… and ") {
		t.Fatalf("err = %v", err)
	}
}

func TestCheck(t *testing.T) {
	o := Output{
		Documents: []Document{{Type: "architecture", Title: "System Architecture", Content: "x"},
			{Type: "api_spec", Title: "API Specification", Content: "x"}},
		Handoff: Handoff{Deliverables: []string{"architecture"}},
	}
	err := o.Check([]provider.DocSpec{{Type: "architecture", Title: "Architecture"},
		{Type: "api_spec", Title: "api specification"}, {Type: "database_schema", Title: "Database Schema"}})
	var perr *Error
	if !errors.As(err, &perr) {
		t.Fatalf("err = %v", err)
	}
	want := []string{
		`the architecture document must be titled "Architecture" (the answer has "System Architecture")`,
		`handoff: deliverables does not list "api_spec"`,
		`missing document "Database Schema" of type "database_schema"`,
		`handoff: deliverables does not list "database_schema"`,
	}
	if !reflect.DeepEqual(perr.Problems, want) {
		t.Fatalf("problems:\n%s", strings.Join(perr.Problems, "\n"))
	}
	if err := o.Check([]provider.DocSpec{{Type: "architecture"}}); err != nil {
		t.Fatalf("a spec without a title needs only the type: %v", err)
	}
	// Files are met by file blocks only: a Markdown code document is not a source tree.
	code := Output{Documents: []Document{{Type: "code", Title: "Backend Implementation", Content: "x"}},
		Handoff: Handoff{Deliverables: []string{"code"}}}
	files := []provider.DocSpec{{Type: "code", Files: true}}
	if err := code.Check(files); err == nil || err.Error() != `missing the source files: write each file of the code as a <file path="…"> block` {
		t.Fatalf("a code document for files: %v", err)
	}
	code.Files = []File{{Path: "main.go", Content: "package main\n"}}
	if err := code.Check(files); err != nil {
		t.Fatal(err)
	}
	code.Handoff.Deliverables = nil
	if err := code.Check(files); err == nil || err.Error() != `handoff: deliverables does not list "code"` {
		t.Fatalf("files not listed as delivered: %v", err)
	}
	if err := o.Check(nil); err != nil {
		t.Fatal(err)
	}
}

func TestFormatRoundTrip(t *testing.T) {
	o := Output{
		Documents: []Document{
			{Type: "api_spec", Title: `Spec "v1" <draft> & more`, Content: "openapi: \"3.0.3\"\n\n"},
			{Type: "code", Title: "Backend", Content: "```go\npackage main\n```\n<handoff>\n  </document>x\n"},
		},
		Files: []File{{Path: "a/b.go", Content: "package b\n\n</document>\n<handoff>\n"}, {Path: "a/empty", Content: ""},
			{Path: "c@1/+x-y_z.txt", Content: "\r\n\r\n"}},
		Handoff: Handoff{Deliverables: []string{"api_spec", "code"}, Notes: "line1\nline2 </handoff>\n</handoff>",
			Tasks: []Task{{Key: "a", Title: "A", OwnerRole: "architect", Priority: "low"},
				{Key: "b", Title: "B", OwnerRole: "qa_engineer", Priority: "critical", DependsOn: []string{"a"}}}},
	}
	roundTrip(t, o)
	empty := Output{}
	roundTrip(t, empty)
	if s := Format(empty); !strings.Contains(s, `"deliverables": []`) {
		t.Fatalf("empty lists should render as []: %s", s)
	}
}

// TestTaskGatesAndDoneTasks: a task may name its gate (as a number, or as a model writes it:
// "G5") and leave its owner out; a handoff may name the tasks it completed, and an empty list
// (none done) stays apart from none given (all done), through Format too.
func TestTaskGatesAndDoneTasks(t *testing.T) {
	handoff := func(js string) string { return "<handoff>\n" + js + "\n</handoff>\n" }
	o, err := Parse(handoff(`{"tasks":[{"key":"a","title":"A","gate":5,"ownerRole":"backend_developer"},` +
		`{"key":"b","title":"B","gate":"G6"},{"key":"c","title":"C","gate":" 7 "},{"key":"d","title":"D","gate":null}],` +
		`"doneTasks":[" g2-prd ","api"]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := []Task{{Key: "a", Title: "A", Gate: 5, OwnerRole: "backend_developer", Priority: "medium"},
		{Key: "b", Title: "B", Gate: 6, Priority: "medium"}, {Key: "c", Title: "C", Gate: 7, Priority: "medium"},
		{Key: "d", Title: "D", Priority: "medium"}}
	if !reflect.DeepEqual(o.Handoff.Tasks, want) || o.Handoff.DoneTasks == nil || !reflect.DeepEqual(*o.Handoff.DoneTasks, []string{"g2-prd", "api"}) {
		t.Fatalf("tasks %+v, done %v", o.Handoff.Tasks, o.Handoff.DoneTasks)
	}
	roundTrip(t, o)
	for text, want := range map[string]*[]string{`{}`: nil, `{"doneTasks":null}`: nil, `{"doneTasks":[]}`: {}} {
		o, err := Parse(handoff(text))
		if err != nil {
			t.Fatal(err)
		}
		if (o.Handoff.DoneTasks == nil) != (want == nil) || want != nil && len(*o.Handoff.DoneTasks) != 0 {
			t.Errorf("%s: doneTasks %v", text, o.Handoff.DoneTasks)
		}
		roundTrip(t, o)
	}
	if s := Format(Output{}); strings.Contains(s, "doneTasks") || strings.Contains(s, `"gate"`) {
		t.Errorf("a handoff that names no done tasks and no gates says so:\n%s", s)
	}
}

func roundTrip(t *testing.T, o Output) {
	t.Helper()
	text := Format(o)
	got, err := Parse(text)
	if err != nil {
		t.Fatalf("Parse(Format(o)): %v\n%s", err, text)
	}
	if !reflect.DeepEqual(got, o) {
		t.Fatalf("round trip:\n got %#v\nwant %#v\ntext:\n%s", got, o, text)
	}
}

// Pathological inputs of a few megabytes must parse in linear time; a quadratic step would make
// this test run for minutes.
func TestLargeInputs(t *testing.T) {
	var chain strings.Builder
	chain.WriteString("<handoff>\n{\"tasks\":[")
	const n = 50000
	for i := 0; i < n; i++ {
		if i > 0 {
			chain.WriteString(",")
		}
		dep := ""
		if i > 0 {
			dep = `"t` + strconv.Itoa(i-1) + `"`
		}
		chain.WriteString(`{"key":"t` + strconv.Itoa(i) + `","title":"T","ownerRole":"architect","dependsOn":[` + dep + `]}`)
	}
	chain.WriteString("]}\n</handoff>\n")
	inputs := map[string]string{
		"long dependency chain": chain.String(),
		"many lines":            strings.Repeat("\n", 4<<20),
		"many documents":        strings.Repeat("<document type=\"other\" title=\"x\">\nx\n</document>\n", 100000),
		"many files":            strings.Repeat("<file path=\"a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t/u/v/w/x/y/z\">\nx\n</file>\n", 100000),
		"unclosed file":         "<file path=\"x\">\n" + strings.Repeat("<file path=\"y\">\n", 1<<20),
		"ampersands":            "<document type=\"other\" title=\"" + strings.Repeat("&", 4<<20) + "\">\nx\n</document>\n",
		"unclosed":              "<document type=\"other\" title=\"x\">\n" + strings.Repeat("<handoff>\n", 1<<20),
		"huge line":             strings.Repeat("<document", 1<<20),
	}
	for name, text := range inputs {
		if _, err := Parse(text); err == nil {
			t.Errorf("%s: parsed", name)
		}
	}
}
