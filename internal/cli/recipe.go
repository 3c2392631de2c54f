package cli

import (
	"cmp"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/netpol/netpol/internal/render"
	"github.com/netpol/netpol/recipes"
	"github.com/netpol/netpol/simulate"
)

func newRecipeCmd(e *env) *cobra.Command {
	c := &cobra.Command{
		Use:   "recipe",
		Short: "List, explain and render known-good NetworkPolicy patterns",
		Long: `The catalogue of known-good NetworkPolicy patterns: deny all traffic to an
application, deny all non-allowed traffic in a namespace, allow traffic from
one namespace, allow DNS egress, default-deny with DNS, and more.

Each recipe is a template with parameters, rendered into plain YAML for
kubectl apply. Each is tested: its expected connectivity on a small example
cluster is checked with the simulator.`,
		Example: e.example(`
  # What is there, and what one does
  NETPOL recipe list
  NETPOL recipe show allow-from-namespace

  # Render one and apply it
  NETPOL recipe render allow-from-namespace -n shop --set app=web --set fromNamespace=frontend | kubectl apply -f -`),
		Args: cobra.NoArgs,
	}
	c.AddCommand(newRecipeListCmd(e), newRecipeShowCmd(e), newRecipeRenderCmd(e))
	return c
}

func newRecipeListCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the recipes",
		Long: `List the recipes of the catalogue with a one-line description, ingress
patterns first, then egress.`,
		Example: e.example(`
  NETPOL recipe list`),
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			all, err := recipes.All()
			if err != nil {
				return err
			}
			return render.RecipeList(e.stdout, all)
		},
	}
}

func newRecipeShowCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME",
		Short: "Show what a recipe does, when to use it, its parameters and an example",
		Long: `Show a recipe: what it does, when to use it, its parameters with their
defaults, the recipes it is usually applied with, and its YAML rendered with
the example's values.`,
		Example: e.example(`
  NETPOL recipe show default-deny-with-dns`),
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeRecipes,
		RunE: func(_ *cobra.Command, args []string) error {
			r, err := recipes.Get(args[0])
			if err != nil {
				return err
			}
			ex, err := r.Render(cmp.Or(r.Example.Namespace, "shop"), r.Example.Set)
			if err != nil {
				return err
			}
			return render.RecipeShow(e.stdout, r, ex.YAML)
		},
	}
}

// recipeRenderOptions are the flags of `netpol recipe render`.
type recipeRenderOptions struct {
	namespace string
	set       []string
}

func newRecipeRenderCmd(e *env) *cobra.Command {
	o := &recipeRenderOptions{}
	c := &cobra.Command{
		Use:   "render NAME [-n NS] [--set PARAM=VALUE]...",
		Short: "Render a recipe into NetworkPolicy YAML",
		Long: `Render a recipe into NetworkPolicy YAML for kubectl apply, in namespace -n
("default" without -n), with the parameters given by --set; the others take
their defaults. A missing required parameter, an unknown one or a value of
the wrong kind is an error, and nothing is printed.

Values by kind (see netpol recipe show NAME):
  pods       the value of the pods' app label (web), or labels (app.kubernetes.io/name=web,tier=front)
  labels     labels k=v,k2=v2
  selectors  label sets separated by ";": "app=api;app=search"
  ports      numbers or container port names, with /UDP or /SCTP when not TCP: 8080,metrics,53/UDP
  cidrs      CIDRs or addresses: 10.0.0.0/8,fd00::/8
  namespace  a namespace name; name: an object name; value: a label value

The YAML starts with a comment that gives the command that rendered it.`,
		Example: e.example(`
  # Only the API pods may call the database
  NETPOL recipe render limit-traffic-to-app -n shop --set app=db --set from=app=api

  # Default-deny a namespace, DNS excepted, and apply it
  NETPOL recipe render default-deny-with-dns -n shop | kubectl apply -f -`),
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: completeRecipes,
		RunE:              func(_ *cobra.Command, args []string) error { return o.run(e, args[0]) },
	}
	c.Flags().StringVarP(&o.namespace, "namespace", "n", "", "render into namespace `NS` (default \"default\")")
	c.Flags().StringArrayVar(&o.set, "set", nil, "set parameter `PARAM=VALUE` (repeatable)")
	_ = c.RegisterFlagCompletionFunc("set", completeRecipeParams)
	return c
}

func (o *recipeRenderOptions) run(e *env, name string) error {
	r, err := recipes.Get(name)
	if err != nil {
		return err
	}
	values, err := parseSet(o.set)
	if err != nil {
		return err
	}
	out, err := r.Render(cmp.Or(o.namespace, "default"), values)
	var me *recipes.MissingError
	if errors.As(err, &me) {
		err = fmt.Errorf("%w\nset them with --set PARAM=VALUE; see '%s recipe show %s'", err, e.name, name)
	}
	if err != nil {
		return err
	}
	var errs []error
	for i := range out.Policies {
		np := out.Policies[i].DeepCopy()
		simulate.Default(np)
		errs = append(errs, simulate.Validate(np))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("recipe %s rendered an invalid policy: %w", name, err)
	}
	_, err = e.stdout.Write(out.YAML)
	return err
}

// parseSet parses --set PARAM=VALUE flags; a parameter set twice is an
// error.
func parseSet(set []string) (map[string]string, error) {
	values := map[string]string{}
	var errs []error
	for _, s := range set {
		k, v, ok := strings.Cut(s, "=")
		switch {
		case !ok || k == "":
			errs = append(errs, fmt.Errorf("--set %q: want PARAM=VALUE", s))
		default:
			if old, dup := values[k]; dup && old != v {
				errs = append(errs, fmt.Errorf("--set: parameter %s set twice, to %q and %q", k, old, v))
			}
			values[k] = v
		}
	}
	return values, errors.Join(errs...)
}

func completeRecipes(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	all, _ := recipes.All()
	var out []string
	for _, r := range all {
		out = append(out, r.Name+"\t"+r.Title)
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeRecipeParams completes --set with the parameters of the recipe
// named by the argument.
func completeRecipeParams(_ *cobra.Command, args []string, _ string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	r, err := recipes.Get(args[0])
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, p := range r.Params {
		out = append(out, p.Name+"=\t"+p.Help)
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveNoSpace
}
