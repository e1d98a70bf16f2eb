package output

import (
	"reflect"
	"testing"
)

// FuzzParse checks that Parse never panics and that whatever it accepts survives Format: the
// platform re-renders stored answers, and a render that parsed differently would change them.
func FuzzParse(f *testing.F) {
	seeds := []string{
		realistic,
		"",
		"<handoff>\n{}\n</handoff>",
		"<document type=\"intake\" title=\"Project Intake\">\n# Project Intake\n\nA recipe app.\n</document>\n" +
			"<handoff>\n{\"deliverables\":[\"intake\"],\"nextRoles\":[\"product_manager\"],\"notes\":\"\"," +
			"\"tasks\":[{\"key\":\"g2\",\"title\":\"PRD\",\"ownerRole\":\"product_manager\",\"priority\":\"high\"}," +
			"{\"key\":\"g3\",\"title\":\"Architecture\",\"ownerRole\":\"architect\",\"dependsOn\":[\"g2\"]}]}\n</handoff>\n",
		"<document type='api_spec' title='API &amp; &#34;spec&#34;'>\r\nopenapi: \"3.0.3\"\r\n</document>\r\n<handoff>\r\n```json\r\n{}\r\n```\r\n</handoff>\r\n",
		"<document type=\"code\" title=\"Backend Implementation\">\n```go\npackage main\n```\n</document>\n<handoff>\n{\"deliverables\":[\"code\"]}\n</handoff>",
		"<document type=\"intake\" title=\"x\">\nno end\n<handoff>\n{}\n</handoff>",
		"<handoff>{}</handoff>",
		"<handoff>\n{\"tasks\":[{\"key\":\"a\",\"title\":\"A\",\"ownerRole\":\"qa_engineer\",\"dependsOn\":[\"a\"]}]}\n</handoff>",
		"<handoff>\n{\"tasks\":[{\"key\":\"a\",\"title\":\"A\",\"gate\":\"G5\"},{\"key\":\"b\",\"title\":\"B\",\"gate\":2}],\"doneTasks\":[]}\n</handoff>",
		"<handoff>\n{\"doneTasks\":[\"g2-prd\",\" api \"]}\n</handoff>",
		"<file path=\"backend/go.mod\">\nmodule x\n</file>\n<file path='backend/main.go'>\r\npackage main\r\n</document>\r\n</file>\r\n" +
			"<file path=\"e\">\n</file>\n<handoff>\n{\"deliverables\":[\"code\"]}\n</handoff>\n",
		"<file path=\"a/b\">\nx\n</file>\n<file path=\"A\">\ny\n</file>\n<file path=\"../x\">\n</file>\n<handoff>\n{}\n</handoff>",
		"<document type=\"code\" title=\"x.go\">\n<file path=\"x.go\">\n</document>\n<file path=\"x.go\">\n\n</file>\n<handoff>\n{}\n</handoff>",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		o, err := Parse(text)
		if err != nil {
			return
		}
		formatted := Format(o)
		again, err := Parse(formatted)
		if err != nil {
			t.Fatalf("Parse(Format(Parse(text))) failed: %v\ntext: %q\nformatted: %q", err, text, formatted)
		}
		if !reflect.DeepEqual(o, again) {
			t.Fatalf("round trip changed the output:\n got %#v\nwant %#v", again, o)
		}
		if Format(again) != formatted {
			t.Fatal("Format is not stable")
		}
	})
}
