package deps

import (
	"fmt"

	"golang.org/x/mod/modfile"
)

// CheckGoMod refuses a go.mod the download cannot be trusted with: replacements by local paths
// (the download would read outside the tree, and the sandbox would not see them anyway).
func CheckGoMod(name string, data []byte) error {
	mf, err := modfile.Parse(name, data, nil)
	if err != nil {
		return fmt.Errorf("%s cannot be read: %v", name, err)
	}
	for _, rep := range mf.Replace {
		if rep.New.Version == "" {
			return fmt.Errorf("%s replaces %s with the local path %s; only module versions may replace modules (copy the code into the module instead)",
				name, rep.Old.Path, rep.New.Path)
		}
	}
	return nil
}
