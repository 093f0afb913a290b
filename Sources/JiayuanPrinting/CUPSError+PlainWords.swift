import JiayuanCUPS
import JiayuanDomain

extension CUPSError: PlainWordsError {
    public var plainWords: String { description }
}
