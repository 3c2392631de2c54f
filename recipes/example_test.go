package recipes_test

import (
	"fmt"

	"github.com/netpol/netpol/recipes"
)

func ExampleRecipe_Render() {
	r, err := recipes.Get("allow-from-namespace")
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := r.Render("shop", map[string]string{"app": "web", "fromNamespace": "frontend"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Print(string(out.YAML))
	// Output:
	// # Allow traffic from one namespace, rendered by:
	// #   netpol recipe render allow-from-namespace -n shop --set app=web --set fromNamespace=frontend
	// apiVersion: networking.k8s.io/v1
	// kind: NetworkPolicy
	// metadata:
	//   name: web-allow-from-frontend
	//   namespace: shop
	// spec:
	//   podSelector:
	//     matchLabels: {app: web}
	//   policyTypes: [Ingress]
	//   ingress:
	//   - from:
	//     - namespaceSelector:
	//         matchLabels:
	//           kubernetes.io/metadata.name: frontend
}
