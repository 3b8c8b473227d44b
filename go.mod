module github.com/leasehold/leasehold

go 1.26.0

require (
	github.com/gofrs/flock v0.13.2
	github.com/google/uuid v1.6.0
	golang.org/x/sys v0.49.0
)

require go.uber.org/goleak v1.3.0 // indirect
