package cli

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/minik8s/minik8s/api"
)

func newLogsCommand(o *Options) *cobra.Command {
	var container string
	var follow, previous bool
	var tail int
	cmd := &cobra.Command{
		Use:   "logs POD [-c CONTAINER]",
		Short: "Print a container's output",
		Long: `Print what a container of a Pod wrote to stdout and stderr. The Pod's kubelet serves it,
through the API server. With --previous, the output of the run before the last restart.`,
		Example: `  minik8s logs hello
  minik8s logs web-1 -c sidecar --tail 20
  minik8s logs hello -f
  minik8s logs crashy --previous`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := o.Client()
			if err != nil {
				return err
			}
			q := url.Values{}
			if container != "" {
				q.Set("container", container)
			}
			if follow {
				q.Set("follow", "true")
			}
			if previous {
				q.Set("previous", "true")
			}
			if tail >= 0 {
				q.Set("tailLines", strconv.Itoa(tail))
			}
			path := api.LookupResource("pods").Path(o.Ns(), args[0]) + "/log"
			resp, err := c.Stream(ctxOf(cmd), http.MethodGet, path, q, nil)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			_, err = io.Copy(o.Out, resp.Body)
			if err != nil && ctxOf(cmd).Err() == nil {
				return fmt.Errorf("read logs: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&container, "container", "c", "", "container name (needed when the Pod has several)")
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new output")
	cmd.Flags().BoolVarP(&previous, "previous", "p", false, "the output of the previous run of a restarted container")
	cmd.Flags().IntVar(&tail, "tail", -1, "only the last N lines")
	return cmd
}

// ExitError carries the exit code of a command run with exec, so that main exits with it.
type ExitError struct{ Code int }

func (e *ExitError) Error() string {
	return fmt.Sprintf("command terminated with exit code %d", e.Code)
}

func newExecCommand(o *Options) *cobra.Command {
	var container string
	var stdin bool
	cmd := &cobra.Command{
		Use:   "exec POD [-c CONTAINER] [-i] -- COMMAND [ARG...]",
		Short: "Run a command in a running container",
		Long: `Run a command in a running container of a Pod and print its output. The command's exit
code becomes minik8s' exit code. With -i, standard input is passed to the command.`,
		Example: `  minik8s exec hello -- cat /etc/hostname
  minik8s exec web-1 -c main -- sh -c 'echo $HOSTNAME'
  echo hi | minik8s exec hello -i -- cat`,
		Args: cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.ArgsLenAtDash() != 1 {
				return fmt.Errorf("put the command after --, e.g. minik8s exec %s -- ls /", args[0])
			}
			c, err := o.Client()
			if err != nil {
				return err
			}
			q := url.Values{"command": args[1:]}
			if container != "" {
				q.Set("container", container)
			}
			var body io.Reader
			if stdin {
				q.Set("stdin", "true")
				body = o.In
			}
			path := api.LookupResource("pods").Path(o.Ns(), args[0]) + "/exec"
			resp, err := c.Stream(ctxOf(cmd), http.MethodPost, path, q, body)
			if err != nil {
				return err
			}
			defer resp.Body.Close()
			if _, err := io.Copy(o.Out, resp.Body); err != nil {
				return fmt.Errorf("read output: %w", err)
			}
			code, err := strconv.Atoi(resp.Trailer.Get("X-Exit-Code"))
			if err != nil {
				return fmt.Errorf("the exec ended without an exit code (the connection broke?)")
			}
			if code != 0 {
				return &ExitError{Code: code}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&container, "container", "c", "", "container name (needed when the Pod has several)")
	cmd.Flags().BoolVarP(&stdin, "stdin", "i", false, "pass standard input to the command")
	return cmd
}
