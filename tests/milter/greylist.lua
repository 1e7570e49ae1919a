-- greylist.lua - a new triplet is deferred; its retry after greylist_delay
-- passes and the message gets one X-Greylist header at end of message.
-- Also: IPv6 and null-sender triplets are deferred the first time, and a
-- client name in brackets counts as unknown (t_milter.sh reads the log).
dofile(libdir .. "/lib.lua")

T.run(function()
	local conn = T.session("mx.sender.test", "192.0.2.10", "mx.sender.test", "<alice@sender.test>")
	T.rcpt(conn, "<bob@example.test>")
	T.expect(conn, SMFIR_REPLYCODE, "a new triplet is refused with a reply code (451 4.7.1, SMFIS_TEMPFAIL)")
	mt.disconnect(conn)

	conn = T.session("mx6.sender.test", "2001:db8::25", "mx6.sender.test", "<v6@sender.test>")
	T.rcpt(conn, "<dan@example.test>")
	T.expect(conn, SMFIR_REPLYCODE, "an IPv6 client's new triplet is refused too")
	mt.disconnect(conn)

	conn = T.session("[192.0.2.11]", "192.0.2.11", "bounce.sender.test", "<>")
	T.rcpt(conn, "<bounces@example.test>")
	T.expect(conn, SMFIR_REPLYCODE, "a null sender's new triplet from a client in brackets is refused")
	mt.disconnect(conn)

	conn = T.session("mx.sender.test", "192.0.2.10", "mx.sender.test", "<alice@sender.test>")
	T.rcpt(conn, "<bob@example.test>")
	T.expect(conn, SMFIR_REPLYCODE, "an early retry (before greylist_delay) is refused again")
	mt.disconnect(conn)

	T.wait_delay()
	conn = T.session("mx.sender.test", "192.0.2.10", "mx.sender.test", "<alice@sender.test>")
	T.rcpt(conn, "<bob@example.test>")
	T.expect(conn, SMFIR_CONTINUE, "the retry after greylist_delay continues")
	T.step("eom", mt.eom(conn))
	T.expect(conn, SMFIR_CONTINUE, "end of message continues")
	T.check(mt.eom_check(conn, MT_HDRINSERT, "X-Greylist"), "the passed message gets an X-Greylist header (inserted)",
		"no X-Greylist inserted")
	local v = mt.getheader(conn, "X-Greylist", 0) or ""
	T.check(string.match(v, "^delayed %d+ seconds by greygate at mx%.greygate%.test; ") ~= nil,
		"X-Greylist says how long and where: '" .. v .. "'", "unexpected value")
	T.check(T.count_inserted(conn, "X-Greylist") == 1, "exactly one X-Greylist header",
		T.count_inserted(conn, "X-Greylist") .. " headers")
	mt.disconnect(conn)

	conn = T.session("mx6.sender.test", "2001:db8::25", "mx6.sender.test", "<v6@sender.test>")
	T.rcpt(conn, "<dan@example.test>")
	T.expect(conn, SMFIR_CONTINUE, "the IPv6 client's retry continues")
	mt.disconnect(conn)
end)
