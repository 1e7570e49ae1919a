-- whitelist.lua - a client on whitelist_clients (192.0.2.200) is never
-- delayed and its message gets no header.
dofile(libdir .. "/lib.lua")

T.run(function()
	local conn = T.session("friend.sender.test", "192.0.2.200", "friend.sender.test", "<bob@sender.test>")
	T.rcpt(conn, "<new@example.test>")
	T.expect(conn, SMFIR_CONTINUE, "a whitelisted client's first attempt continues")
	T.step("eom", mt.eom(conn))
	T.expect(conn, SMFIR_CONTINUE, "its end of message continues")
	T.check(not mt.eom_check(conn, MT_HDRINSERT) and not mt.eom_check(conn, MT_HDRADD),
		"the whitelisted message gets no header", "a header was added")
	mt.disconnect(conn)
end)
