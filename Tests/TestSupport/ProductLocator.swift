import Foundation

/// Finds executables built by `swift build` next to the running test binary.
public enum ProductLocator {
    /// Path of the built product `name` (e.g. "dupwatch") in the same build directory as the test
    /// runner (`.build/<triple>/debug/DupWatchPackageTests.xctest` on Linux). Set
    /// `DUPWATCH_BUILD_DIR` to override the directory.
    public static func executable(named name: String) throws -> String {
        let directories = candidateDirectories()
        for directory in directories {
            let candidate = directory + "/" + name
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: candidate, isDirectory: &isDirectory), !isDirectory.boolValue,
               FileManager.default.isExecutableFile(atPath: candidate) {
                return candidate
            }
        }
        throw TestSupportError(
            "cannot find the built product '\(name)' next to the test binary (looked in: "
                + directories.joined(separator: ", ")
                + "): run `swift build` (or `swift build --product \(name)`) before the tests")
    }

    /// Build directories to search, most likely first, without duplicates.
    public static func candidateDirectories() -> [String] {
        var result: [String] = []
        func add(_ path: String?) {
            guard let path, !path.isEmpty else { return }
            var dir = URL(fileURLWithPath: path).standardizedFileURL
            // Inside a bundle (macOS: X.xctest/Contents/MacOS/X, or the .xctest itself): step out of it.
            var probe = dir
            while probe.pathComponents.count > 1 {
                if probe.pathExtension == "xctest" {
                    dir = probe.deletingLastPathComponent()
                    break
                }
                probe = probe.deletingLastPathComponent()
            }
            for candidate in [dir.path, dir.resolvingSymlinksInPath().path] where !result.contains(candidate) {
                result.append(candidate)
            }
        }
        add(ProcessInfo.processInfo.environment["DUPWATCH_BUILD_DIR"])
        if let first = CommandLine.arguments.first {
            let absolute = first.hasPrefix("/") ? first : FileManager.default.currentDirectoryPath + "/" + first
            add(URL(fileURLWithPath: absolute).deletingLastPathComponent().path)
            if URL(fileURLWithPath: absolute).pathExtension == "xctest" {
                add(URL(fileURLWithPath: absolute).deletingLastPathComponent().path)
            }
        }
        if let executable = Bundle.main.executablePath {
            add(URL(fileURLWithPath: executable).deletingLastPathComponent().path)
        }
        add(Bundle.main.bundlePath)
        for bundle in Bundle.allBundles where bundle.bundlePath.hasSuffix(".xctest") {
            add(URL(fileURLWithPath: bundle.bundlePath).deletingLastPathComponent().path)
        }
        return result
    }
}
