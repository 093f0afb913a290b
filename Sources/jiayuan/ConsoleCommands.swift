import ArgumentParser
import Foundation
import JiayuanDomain
import JiayuanKiosk

/// `jiayuan console …`: the staff console's door.
struct ConsoleCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "console", abstract: "The staff console's own door (HTTPS on the desk network).", subcommands: [ConsoleCert.self])
}

/// `jiayuan console cert [--renew]`: prints the SHA-256 fingerprint staff compare with their browser's.
struct ConsoleCert: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cert",
        abstract: "Print the console certificate's SHA-256 fingerprint (compare it with the one the desk PC's browser shows).")
    @OptionGroup var data: DataOption
    @Flag(help: "Make a new self-signed certificate (this machine's names and addresses); restart the kiosk to use it.") var renew = false

    func run() throws {
        let directory = data.directory
        let config = try directory.loadConfig()
        let certificate = ConsoleCertificate(data: directory, config: config.console)
        if renew {
            guard config.console.tlsCert == nil else {
                throw KioskError(
                    "[console] tls_cert names your own certificate (\(certificate.certificatePath)): renew it where it came from")
            }
            let fingerprint = try certificate.create(
                hostNames: ConsoleCertificate.hostNames(console: config.console),
                addresses: ConsoleCertificate.addresses(console: config.console))
            print("SHA-256 \(fingerprint)")
            FileHandle.standardError.write(
                Data("a new certificate is in \(certificate.certificatePath): restart the kiosk (systemctl restart jiayuan)\n".utf8))
            return
        }
        guard certificate.exists else {
            throw KioskError("no console certificate at \(certificate.certificatePath): run `jiayuan console cert --renew` to make one")
        }
        print("SHA-256 \(try certificate.fingerprint())")
        if !config.console.requiresTLS {
            FileHandle.standardError.write(
                Data(
                    "the console listens on \(config.console.host) (this machine only, plain HTTP); the certificate is used once [console] host is a network address\n"
                        .utf8))
        }
    }
}
