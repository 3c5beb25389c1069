import t from 'tap'
import { fuzzShard } from './openapi-suite.js'

// The OpenAPI fuzzer (openapi-suite.ts says how it works and how to reproduce a failure) over the admin API (/admin/…).
fuzzShard(t, 'admin')
