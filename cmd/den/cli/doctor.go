package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/lipgloss"
	"github.com/spf13/cobra"

	"github.com/denproject/den/doctor"
	"github.com/denproject/den/run"
)

func init() {
	register(groupSystem, newDoctor)
}

func newDoctor(g *run.Global) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check this host for what den needs, with the fix for each fault",
		Long: "Check this host for what den needs: one line per check, ok, warn or fail, with the\n" +
			"fix for each fault as a command. Only a fault that stops `den run` is a fail, and only\n" +
			"a fail makes den doctor exit 1.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if format != "text" && format != "json" {
				return &usageError{fmt.Errorf("unknown --format %q: use text or json", format)}
			}
			checks := run.Doctor(g)
			out := cmd.OutOrStdout()
			if format == "json" {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(checks); err != nil {
					return err
				}
			} else {
				printChecks(out, checks, out == os.Stdout && isTerminal(os.Stdout))
			}
			if doctor.Failed(checks) {
				return &run.ExitError{Code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

var statusStyle = map[doctor.Status]lipgloss.Style{
	doctor.OK:   lipgloss.NewStyle().Foreground(lipgloss.Color("10")),
	doctor.Warn: lipgloss.NewStyle().Foreground(lipgloss.Color("11")).Bold(true),
	doctor.Fail: lipgloss.NewStyle().Foreground(lipgloss.Color("9")).Bold(true),
}

// printChecks writes one line per check, and under each fault its fix. A
// fix of several lines (a heredoc) starts on a line of its own, unindented,
// so that it can be pasted as it is.
func printChecks(w io.Writer, checks []doctor.Check, styled bool) {
	var fails, warns int
	for _, c := range checks {
		word := fmt.Sprintf("%-4s", c.Status)
		if styled {
			word = statusStyle[c.Status].Render(word)
		}
		fmt.Fprintf(w, "%s  %s: %s\n", word, c.Name, c.Detail)
		switch {
		case c.Fix == "":
		case strings.Contains(c.Fix, "\n"):
			fmt.Fprintf(w, "      fix:\n%s\n", c.Fix)
		default:
			fmt.Fprintf(w, "      fix: %s\n", c.Fix)
		}
		switch c.Status {
		case doctor.Fail:
			fails++
		case doctor.Warn:
			warns++
		}
	}
	switch {
	case fails > 0:
		fmt.Fprintf(w, "%s, %s: den run will not work until the failures are fixed\n", count(fails, "failure"), count(warns, "warning"))
	case warns > 0:
		fmt.Fprintf(w, "%s: den run works; each warning names what is missing or slower\n", count(warns, "warning"))
	default:
		fmt.Fprintln(w, "den run has everything it needs")
	}
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
