module github.com/fuzzyllama/fuzzyllama/services/agents

go 1.26.0

replace github.com/fuzzyllama/fuzzyllama/gen => ../../gen

replace github.com/fuzzyllama/fuzzyllama/platform => ../../platform
