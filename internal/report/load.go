package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/chaosd/chaosd/internal/journal"
)

// LoadRecords reads journals from files and directories (the *.json files
// directly inside; hidden and temp files are ignored). Any unreadable
// journal is an error naming its file: a report silently missing a run is
// worse than no report. A run found twice (a directory and a file in it,
// or an in-progress copy) appears once, the most finished version winning.
// Records come back in start order.
func LoadRecords(paths ...string) ([]journal.Record, error) {
	if len(paths) == 0 {
		return nil, errors.New("load journals: no files or directories given")
	}
	var files []string
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("load journals: %w", err)
		}
		if !info.IsDir() {
			files = append(files, p)
			continue
		}
		found, err := journalFiles(p)
		if err != nil {
			return nil, err
		}
		files = append(files, found...)
	}
	byID := map[string]int{}
	var recs []journal.Record
	for _, f := range files {
		r, err := journal.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("load journals: %w", err)
		}
		if i, dup := byID[r.RunID]; dup {
			if moreFinished(r, recs[i]) {
				recs[i] = r
			}
			continue
		}
		byID[r.RunID] = len(recs)
		recs = append(recs, r)
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("load journals: no journal files (*.json) in %s", strings.Join(paths, ", "))
	}
	return sortedRuns(recs), nil
}

func journalFiles(dir string) ([]string, error) {
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("load journals: %w", err)
	}
	var out []string
	for _, de := range des {
		name := de.Name()
		if de.IsDir() || strings.HasPrefix(name, ".") || !strings.HasSuffix(name, ".json") {
			continue
		}
		out = append(out, filepath.Join(dir, name))
	}
	slices.Sort(out)
	return out, nil
}

func moreFinished(a, b journal.Record) bool {
	if (a.Verdict != "") != (b.Verdict != "") {
		return a.Verdict != ""
	}
	return a.FinishedAt.After(b.FinishedAt)
}
