import JiayuanSync

extension Uploader {
    /// An uploader for `kiosk`'s log.
    public convenience init(kiosk: Kiosk, settings: UploadSettings) {
        self.init(
            database: kiosk.database, kioskID: kiosk.config.kioskID, centreID: kiosk.config.centreID, settings: settings, clock: kiosk.clock
        )
    }
}
