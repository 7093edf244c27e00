// Command etcd is the test bed's etcd: upstream etcd's own entry point, built from the Go module so the
// bed does not depend on whatever etcd a distribution ships (Debian's is 3.4, too old for Kubernetes 1.37).
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
