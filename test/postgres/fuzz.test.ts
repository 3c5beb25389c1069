// The OpenAPI fuzzer and its regression tests, on PostgreSQL (see testBackend in test/support/helper.ts).
// Same seed and the same 1,000 requests per operation unless GATEHOUSE_FUZZ_RUNS says otherwise.
process.env.GATEHOUSE_TEST_BACKEND = 'postgres'
await import('../fuzz/openapi.test.js')
await import('../fuzz/regressions.test.js')
