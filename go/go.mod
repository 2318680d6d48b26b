module github.com/aerostack/aerostack-sdk/go

go 1.23
