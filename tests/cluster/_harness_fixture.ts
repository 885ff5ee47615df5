// Run by harness_test.ts with PATH emptied: shows what a missing
// redis-server does to a cluster test (ignored locally, failed under CI).
import { redisTest } from "./_redis.ts";

redisTest("needs redis", async () => {});
