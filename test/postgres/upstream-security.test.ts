// The same tests, on PostgreSQL (see testBackend in test/support/helper.ts).
process.env.GATEHOUSE_TEST_BACKEND = 'postgres'
await import('../security/f-upstream.test.js')
