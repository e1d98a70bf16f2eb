module github.com/fuzzyllama/fuzzyllama/services/projects

go 1.26.0

replace github.com/fuzzyllama/fuzzyllama/gen => ../../gen

replace github.com/fuzzyllama/fuzzyllama/platform => ../../platform
