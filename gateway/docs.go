package gateway

import _ "embed"

//go:embed docs_assets/index.html
var docsPage []byte

//go:embed docs_assets/app.js
var docsScript []byte
