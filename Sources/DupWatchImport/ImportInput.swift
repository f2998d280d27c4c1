internal import CZlib
import Foundation

/// An import file's bytes, gzip-compressed or plain (told apart by the magic bytes `1f 8b`), read
/// in fixed-size chunks: memory stays the same whatever the file's size. Concatenated gzip
/// members (what `cat a.gz b.gz` makes) are read one after the other, as zcat does.
public final class ImportInput {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    private let file: UnsafeMutablePointer<FILE>
    public let path: String
    /// The file's size in bytes (0 when unknown), for a progress percentage.
    public let fileSize: Int64
    /// How many of the file's bytes were read so far (compressed bytes for a .gz).
    public private(set) var fileBytesRead: Int64 = 0
    public private(set) var isGzip = false

    private static let chunk = 1 << 18
    private var raw: [UInt8]
    private var rawStart = 0
    private var rawEnd = 0
    private var rawEOF = false
    private var stream = z_stream()
    private var streamOpen = false

    public init(path: String) throws {
        guard let file = fopen(path, "rb") else {
            throw Failure(description: "cannot open \(path): \(String(cString: strerror(errno)))")
        }
        self.file = file
        self.path = path
        var info = stat()
        fileSize = fstat(fileno(file), &info) == 0 ? Int64(info.st_size) : 0
        raw = [UInt8](repeating: 0, count: Self.chunk)
        try fillRaw()
        isGzip = rawEnd - rawStart >= 2 && raw[rawStart] == 0x1f && raw[rawStart + 1] == 0x8b
    }

    deinit {
        if streamOpen { inflateEnd(&stream) }
        fclose(file)
    }

    /// Reads more raw bytes after the unread ones (moved to the front).
    private func fillRaw() throws {
        if rawStart > 0 {
            let unread = rawEnd - rawStart
            if unread > 0 {
                raw.withUnsafeMutableBufferPointer { p in
                    _ = memmove(p.baseAddress!, p.baseAddress! + rawStart, unread)
                }
            }
            rawStart = 0
            rawEnd = unread
        }
        guard !rawEOF, rawEnd < raw.count else { return }
        let count = raw.withUnsafeMutableBufferPointer { p in
            fread(p.baseAddress! + rawEnd, 1, p.count - rawEnd, file)
        }
        if count == 0 {
            if ferror(file) != 0 { throw Failure(description: "cannot read \(path): \(String(cString: strerror(errno)))") }
            rawEOF = true
        }
        rawEnd += count
        fileBytesRead += Int64(count)
    }

    /// Fills `buffer` from its start with up to `buffer.count` bytes of content; 0 at the end.
    public func read(into buffer: UnsafeMutableBufferPointer<UInt8>) throws -> Int {
        guard isGzip else {
            if rawEnd == rawStart { try fillRaw() }
            let count = min(buffer.count, rawEnd - rawStart)
            raw.withUnsafeBufferPointer { p in
                _ = memcpy(buffer.baseAddress!, p.baseAddress! + rawStart, count)
            }
            rawStart += count
            return count
        }
        while true {
            if rawEnd == rawStart {
                try fillRaw()
                if rawEnd == rawStart {
                    if streamOpen { throw Failure(description: "\(path): the gzip data ends early (truncated file?)") }
                    return 0
                }
            }
            if !streamOpen {
                stream = z_stream()
                guard dupwatch_inflate_init(&stream) == Z_OK else { throw Failure(description: "zlib: inflateInit2 failed") }
                streamOpen = true
            }
            let available = rawEnd - rawStart
            let (status, consumed, produced): (Int32, Int, Int) = raw.withUnsafeMutableBufferPointer { p in
                stream.next_in = p.baseAddress! + rawStart
                stream.avail_in = uInt(available)
                stream.next_out = buffer.baseAddress!
                stream.avail_out = uInt(buffer.count)
                let status = inflate(&stream, Z_NO_FLUSH)
                return (status, available - Int(stream.avail_in), buffer.count - Int(stream.avail_out))
            }
            rawStart += consumed
            switch status {
            case Z_STREAM_END:
                // A member ends; another may follow.
                inflateEnd(&stream)
                streamOpen = false
            case Z_OK, Z_BUF_ERROR:
                break
            default:
                let message = stream.msg.map { String(cString: $0) } ?? "error \(status)"
                throw Failure(description: "\(path): not valid gzip data (\(message))")
            }
            if produced > 0 { return produced }
            if status == Z_BUF_ERROR && consumed == 0 && rawEOF && rawEnd == rawStart {
                throw Failure(description: "\(path): the gzip data ends early (truncated file?)")
            }
        }
    }
}
