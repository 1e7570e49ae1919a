-- reload.lua - run after t_milter.sh added "whitelist_recipients =
-- postmaster@" to the configuration and sent SIGHUP: a new triplet to that
-- recipient now continues, while another new triplet is still refused.
dofile(libdir .. "/lib.lua")

T.run(function()
	local conn = T.session("mx9.sender.test", "192.0.2.90", "mx9.sender.test", "<gina@sender.test>")
	local r = T.rcpt(conn, "<postmaster@example.test>")
	T.check(r == SMFIR_CONTINUE, "after SIGHUP a recipient on the reloaded whitelist continues",
		T.reply_name(r))
	r = T.rcpt(conn, "<someone@example.test>")
	T.check(r == SMFIR_REPLYCODE, "and other new triplets are still refused", T.reply_name(r))
	mt.disconnect(conn)
end)
