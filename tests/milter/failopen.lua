-- failopen.lua - what the milter asks for, and what it does with odd input:
-- a connection from an unknown protocol family (not IPv4 or IPv6) is let
-- through at every step; over-long arguments are cut to size and answered.
dofile(libdir .. "/lib.lua")

T.run(function()
	local conn = T.connect()
	T.step("negotiate", mt.negotiate(conn, nil, nil, nil))
	T.check(mt.test_action(conn, SMFIF_ADDHDRS), "the milter asks to add headers (SMFIF_ADDHDRS)", "not requested")
	T.check(not mt.test_action(conn, SMFIF_CHGBODY), "and nothing else such as body changes", "SMFIF_CHGBODY requested")
	T.check(mt.test_option(conn, SMFIP_NOHDRS) and mt.test_option(conn, SMFIP_NOBODY) and
		mt.test_option(conn, SMFIP_NOEOH), "headers, end of headers and body are negotiated away",
		"the MTA would send steps the milter does not use")
	T.check(not mt.test_option(conn, SMFIP_NORCPT), "recipients are not negotiated away", "SMFIP_NORCPT")
	T.step("conninfo", mt.conninfo(conn, "local.sender.test", "unspec"))
	T.expect(conn, SMFIR_CONTINUE, "a connection of an unknown family continues")
	T.step("helo", mt.helo(conn, "local.sender.test"))
	T.expect(conn, SMFIR_CONTINUE, "its HELO continues")
	T.step("mailfrom", mt.mailfrom(conn, "<erin@sender.test>"))
	T.expect(conn, SMFIR_CONTINUE, "its MAIL FROM continues")
	T.step("rcptto", mt.rcptto(conn, "<new@example.test>"))
	T.expect(conn, SMFIR_CONTINUE, "its new triplet is not greylisted (fail open)")
	T.step("eom", mt.eom(conn))
	T.expect(conn, SMFIR_CONTINUE, "its end of message continues")
	T.check(not mt.eom_check(conn, MT_HDRINSERT), "and gets no header", "a header was inserted")
	mt.disconnect(conn)

	-- 900-byte HELO, sender and recipient: longer than the request's fields.
	local long = string.rep("x", 880)
	conn = T.session("mx3.sender.test", "192.0.2.30", long .. ".test", "<" .. long .. "@sender.test>")
	local r = T.rcpt(conn, "<" .. long .. "@example.test>")
	T.check(r == SMFIR_REPLYCODE, "over-long HELO, sender and recipient are cut to size and answered",
		T.reply_name(r))
	r = T.rcpt(conn, "")
	T.check(r == SMFIR_CONTINUE or r == SMFIR_REPLYCODE, "an empty recipient is answered", T.reply_name(r))
	mt.disconnect(conn)
	conn = T.session("mx3.sender.test", "192.0.2.30", "mx3.sender.test", "<frank@sender.test>")
	r = T.rcpt(conn, "<frank@example.test>")
	T.check(r == SMFIR_REPLYCODE, "the milter still answers after the odd input", T.reply_name(r))
	mt.disconnect(conn)
end)
