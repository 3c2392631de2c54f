module github.com/netpol/netpol/test/oracles/scenario

go 1.26.0
