import Testing
import RedisClient

@Suite("RedisURL parsing")
struct RedisURLTests {
    @Test func defaults() throws {
        let url = try RedisURL(parsing: "redis://localhost")
        #expect(url.host == "localhost")
        #expect(url.port == 6379)
        #expect(url.username == nil)
        #expect(url.password == nil)
        #expect(url.database == 0)
        #expect(url.description == "redis://localhost:6379")
    }

    @Test func hostPortAndDatabase() throws {
        let url = try RedisURL(parsing: "redis://10.0.0.5:7000/3")
        #expect(url == RedisURL(host: "10.0.0.5", port: 7000, database: 3))
        #expect(url.description == "redis://10.0.0.5:7000/3")
        #expect(try RedisURL(parsing: "redis://h:1/").database == 0)
    }

    @Test func userAndPassword() throws {
        let url = try RedisURL(parsing: "redis://alice:s3cret@127.0.0.1:6380/2")
        #expect(url.username == "alice")
        #expect(url.password == "s3cret")
        #expect(url.port == 6380)
        #expect(url.database == 2)
        #expect(url.description == "redis://alice:***@127.0.0.1:6380/2")
    }

    @Test func passwordOnly() throws {
        let url = try RedisURL(parsing: "redis://:hunter2@cache.internal")
        #expect(url.username == nil)
        #expect(url.password == "hunter2")
        #expect(url.description == "redis://:***@cache.internal:6379")
    }

    @Test func userOnly() throws {
        let url = try RedisURL(parsing: "redis://bob@h")
        #expect(url.username == "bob")
        #expect(url.password == nil)
        #expect(url.description == "redis://bob@h:6379")
    }

    @Test func percentDecoding() throws {
        let url = try RedisURL(parsing: "redis://us%40er:p%40ss%3Aw%2Fo%25rd@h:1")
        #expect(url.username == "us@er")
        #expect(url.password == "p@ss:w/o%rd")
        #expect(url.description == "redis://us%40er:***@h:1")
        // An unencoded '@' in the password still works: the last '@' separates the host.
        #expect(try RedisURL(parsing: "redis://u:a@b@h").password == "a@b")
    }

    @Test func ipv6() throws {
        let url = try RedisURL(parsing: "redis://[::1]:6390")
        #expect(url.host == "::1")
        #expect(url.port == 6390)
        #expect(url.description == "redis://[::1]:6390")
    }

    @Test(arguments: [
        ("localhost:6379", "must start with redis://"),
        ("http://localhost", "must start with redis://"),
        ("rediss://localhost", "TLS"),
        ("redis://", "host is missing"),
        ("redis://:6379", "host is missing"),
        ("redis://h:abc", "port 'abc'"),
        ("redis://h:0", "port '0'"),
        ("redis://h:70000", "port '70000'"),
        ("redis://h:-1", "port '-1'"),
        ("redis://h/x", "database '/x'"),
        ("redis://h/-1", "database '/-1'"),
        ("redis://h?db=1", "query"),
        ("redis://::1:6379", "brackets"),
        ("redis://u:p%zz@h", "invalid %-escape"),
    ])
    func badURLs(input: String, expected: String) throws {
        let error = #expect(throws: RedisURLError.self) { try RedisURL(parsing: input) }
        let text = error?.description ?? ""
        #expect(text.contains(expected), "\(text)")
        #expect(text.contains("redis://[user[:password]@]host[:port][/db]"), "\(text)")
    }

    @Test func errorsNeverShowThePassword() throws {
        for input in ["redis://u:topsecret@h:notaport", "redis://:topsecret@", "redis://u:topsecret@h/zz",
                      "redis://u:topsecret%zz@h", "http://u:topsecret@h", "u:topsecret@h"] {
            let error = #expect(throws: RedisURLError.self) { try RedisURL(parsing: input) }
            let text = error?.description ?? ""
            #expect(!text.contains("topsecret"), "\(text)")
        }
    }

    @Test func descriptionNeverShowsThePassword() throws {
        let url = try RedisURL(parsing: "redis://admin:topsecret@h:1/5")
        #expect(!url.description.contains("topsecret"))
        #expect(!"\(url)".contains("topsecret"))
        #expect(!String(describing: url).contains("topsecret"))
    }
}
