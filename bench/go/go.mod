module github.com/aerostack/aerostack-sdk/bench/go

go 1.23

require github.com/aerostack/aerostack-sdk/go v0.0.0

replace github.com/aerostack/aerostack-sdk/go => ../../go
