extension CUPSClient {
    /// Explains a `printer-state-reasons` keyword to staff, in Chinese and English.
    ///
    /// The severity suffix (`-error`, `-warning`, `-report`) is ignored: `media-empty`,
    /// `media-empty-error` and `media-empty-warning` get the same words. A keyword this table does not
    /// know is returned as it is in both languages.
    public static func explain(reason: String) -> (zh: String, en: String) {
        let keyword = reason.trimmingBlanks().lowercased()
        var base = keyword
        for suffix in ["-error", "-warning", "-report"] where base.hasSuffix(suffix) {
            base.removeLast(suffix.count)
            break
        }
        switch base {
        case "none", "":
            return ("打印机正常", "The printer is ready.")
        case "media-empty", "media-needed":
            return ("打印机没纸了，请装入新的纸卷", "The printer is out of paper — load a new paper roll.")
        case "media-low":
            return ("纸卷快用完了，请准备新纸卷", "The paper roll is running low — have a new one ready.")
        case "media-jam":
            return ("打印机卡纸了，请打开机盖取出卡住的纸", "Paper jam — open the cover and clear the paper.")
        case "offline":
            return ("打印机离线，请检查电源和数据线", "The printer is offline — check its power and cable.")
        case "timed-out":
            return ("打印机没有响应，请检查电源和数据线", "The printer is not responding — check its power and cable.")
        case "paused", "moving-to-paused":
            return ("打印队列已暂停，需要工作人员恢复", "The print queue is paused — a staff member must resume it.")
        case "cover-open":
            return ("打印机盖子开着，请盖好", "The printer cover is open — close it.")
        case "door-open":
            return ("打印机舱门开着，请关好", "A printer door is open — close it.")
        case "toner-empty":
            return ("墨粉用完了，请更换墨粉盒", "The toner is empty — replace the cartridge.")
        case "toner-low":
            return ("墨粉不多了，请准备新的墨粉盒", "The toner is low — have a new cartridge ready.")
        case "marker-supply-empty":
            return ("墨水或色带用完了，请更换", "The ink or ribbon is used up — replace it.")
        case "marker-supply-low":
            return ("墨水或色带不多了", "The ink or ribbon is running low.")
        case "marker-waste-full", "marker-waste-almost-full":
            return ("废墨仓已满，请清理", "The waste ink container is full — empty it.")
        case "output-area-full", "output-area-almost-full":
            return ("出纸口满了，请取走打印好的纸", "The output tray is full — take out the printed paper.")
        case "connecting-to-device":
            return ("正在连接打印机…", "Connecting to the printer…")
        case "shutdown":
            return ("打印机正在关机", "The printer is shutting down.")
        case "spool-area-full":
            return ("打印服务器的存储空间满了", "The print server's spool is full.")
        case "cups-missing-filter":
            return ("打印服务器无法转换这种文件格式", "The print server cannot convert this document for the printer.")
        default:
            return (reason, reason)
        }
    }
}
